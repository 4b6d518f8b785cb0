#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-plot.py SAMPLES.tsv ARCH OUT.svg: the ratio patched/unpatched of each
'make bench' row (median of the per-boot medians), as bars on a log scale, in
plain SVG (no plotting package needed). Rows with no unpatched figure (the
injector and the detail file exist on the patched kernel only) are left out;
a *_cold row is compared with the unpatched kernel's plain row."""
import csv
import math
import statistics
import sys


def main():
    path, arch, svg = sys.argv[1:]
    rows, order = {}, []
    for r in csv.DictReader(open(path), delimiter='\t'):
        if r['ns'] == 'n/a':
            continue
        if r['row'] not in rows:
            rows[r['row']] = {'patched': [], 'base': []}
            order.append(r['row'])
        rows[r['row']][r['kernel']].append(int(r['ns']))
    # The unpatched kernel keeps no gathering: its plain row is its cold one.
    for n in order:
        if '_cold.' in n and not rows[n]['base']:
            rows[n]['base'] = rows.get(n.replace('_cold.', '.'), {}).get('base', [])
    bars = [(n, statistics.median(rows[n]['patched']) / statistics.median(rows[n]['base']))
            for n in order if rows[n]['patched'] and rows[n]['base']]
    lo = -1.0
    hi = max(2.0, math.ceil(math.log10(max([r for _, r in bars] + [1]))))
    width, left, right, top, step = 760, 230, 60, 40, 22
    height = top + step * len(bars) + 40

    def x(ratio):
        ratio = min(max(ratio, 10 ** lo), 10 ** hi)
        return left + (math.log10(ratio) - lo) / (hi - lo) * (width - left - right)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14">make bench, {arch}: patched / unpatched '
           '(median of per-boot medians, log scale; red: slower by more than 2 %)</text>']
    for e in range(int(lo), int(hi) + 1):
        out.append(f'<line x1="{x(10 ** e):.1f}" y1="{top - 5}" x2="{x(10 ** e):.1f}" '
                   f'y2="{height - 30}" stroke="#ccc"/><text x="{x(10 ** e):.1f}" '
                   f'y="{height - 15}" text-anchor="middle">{10 ** e:g}x</text>')
    for i, (name, ratio) in enumerate(bars):
        y = top + i * step
        x0, x1 = sorted((x(1), x(ratio)))
        colour = '#c0392b' if ratio > 1.02 else '#2e86c1'
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{name}</text>'
                   f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{step - 6}" fill="{colour}"/>'
                   f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 14}">{ratio:.3f}</text>')
    out.append(f'<line x1="{x(1):.1f}" y1="{top - 5}" x2="{x(1):.1f}" y2="{height - 30}" '
               'stroke="black"/></svg>')
    with open(svg, 'w') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
