# SPDX-License-Identifier: GPL-2.0
"""The guest-to-host protocol of the test VMs, written down once.

Host to guest: the kernel command line (vmboot.py writes it).
  resv.mode=tests|run|probe   what initramfs/init does
  resv.out=DEV                the output channel (per arch: "out" in arches.conf)
  resv.timeout=SECONDS        the limit of each test program
  KEY=value                   reaches init, and so every test, as an environment
                              variable (RESV_STRESS_SECONDS=..., RESV_DT_PLATFORM=1)

Guest to host: initramfs/init writes everything, its own lines and the test
programs' output, to the output channel, which QEMU writes to
LABEL.out.log. A line starting with "@@" is the protocol's; every other line
is output (shown by "vmrun.py run", judged as TAP inside a test section).

  @@PROBE ok                      probe mode: the guest booted (vmboot's KVM probe)
  @@BEGIN RELEASE MACHINE         tests mode: init is up and probing has settled
  @@DUMP WHEN                     a group dump begins (WHEN: boot, before the tests;
                                  tests, after them); inside it, per IOMMU group:
    @@GROUP DEV...                  its member devices (sorted, space-separated)
    @@TYPE TYPE                     its default domain type
    @@R LINE                        each line of its reserved_regions
    @@D LINE                        each line of its reserved_regions_detail (if any)
  @@DUMP WHEN end                 the dump is complete (a dump without it is no dump)
  @@MODULE NAME insmod|rmmod rc=N a test module loaded or unloaded, with its status
  @@TEST NAME                     a test program starts: its TAP follows
  @@END NAME rc=N secs=S          it ended with exit status N after S seconds
  @@KMEMLEAK BEGIN                a kmemleak kernel's report after the tests follows,
  @@KMEMLEAK END                  up to this line
  @@DONE                          tests mode: init finished every test (it powers off)
  @@EXIT N [WHY]                  run mode: /run-me exited with status N (125: init
                                  could not run it, WHY says why)

parse() is the one reader of these lines; vmjudge.py judges what it returns.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

PREFIX = '@@'


def is_protocol(line):
    """True for a line of the protocol (not shown as the guest's output)."""
    return line.startswith(PREFIX)


@dataclass
class TestRun:
    """One @@TEST section: the program's output and its status (None: no @@END)."""
    name: str
    text: str
    rc: Optional[int]


@dataclass
class Group:
    """One @@GROUP of a dump with its @@TYPE, @@R and @@D lines (prefix removed)."""
    members: List[str]
    type: Optional[str] = None
    regions: List[str] = field(default_factory=list)
    detail: List[str] = field(default_factory=list)


@dataclass
class Dump:
    """The groups of one "@@DUMP WHEN" section; ended: its "@@DUMP WHEN end" came."""
    groups: List[Group] = field(default_factory=list)
    ended: bool = False


@dataclass
class Channel:
    """What the guest reported on its output channel."""
    tests: Dict[str, TestRun] = field(default_factory=dict)
    modules: List[Tuple[str, str, int]] = field(default_factory=list)
    dumps: Dict[str, Dump] = field(default_factory=dict)
    kmemleak: Optional[str] = None
    done: bool = False
    probed: bool = False
    exit: Optional[int] = None
    # init's own markers (@@BEGIN, @@DUMP, @@MODULE, @@END, @@KMEMLEAK), in
    # order: where a guest that did not finish was
    marks: List[str] = field(default_factory=list)


MODULE = re.compile(r'^@@MODULE (\S+) (insmod|rmmod) rc=(\d+)')
MARK = re.compile(r'^@@(BEGIN|DUMP|MODULE|END|KMEMLEAK)')


def parse(out):
    """The Channel of an output channel's text."""
    ch = Channel()
    test, buf = None, []            # the open @@TEST section
    dump = group = None             # the open @@DUMP section, its last @@GROUP
    leak = None                     # the lines of an open @@KMEMLEAK report
    for line in out.splitlines():
        if MARK.match(line):
            ch.marks.append(line)
        # test sections
        if line.startswith('@@TEST '):
            test, buf = line[7:].strip(), []
        elif line.startswith('@@END ') and test:
            m = re.search(r'rc=(\d+)', line)
            ch.tests[test] = TestRun(test, '\n'.join(buf), int(m.group(1)) if m else None)
            test = None
        elif test:
            buf.append(line)
        # group dumps
        if line.startswith('@@DUMP ') or line == '@@DONE':
            if dump is not None and line == f'@@DUMP {dump} end':
                ch.dumps[dump].ended = True
            dump, group = None, None
            if line.startswith('@@DUMP ') and not line.endswith(' end'):
                dump = line[7:]
                ch.dumps.setdefault(dump, Dump())
        elif dump is None:
            pass
        elif line.startswith('@@GROUP '):
            group = Group(line[8:].split())
            ch.dumps[dump].groups.append(group)
        elif group is None:
            pass
        elif line.startswith('@@R '):
            group.regions.append(line[4:])
        elif line.startswith('@@TYPE '):
            group.type = line[7:].strip()
        elif line.startswith('@@D ') and len(line.split()) == 7:
            group.detail.append(line[4:])
        # the rest
        m = MODULE.match(line)
        if m:
            ch.modules.append((m.group(1), m.group(2), int(m.group(3))))
        if line == '@@KMEMLEAK BEGIN' and ch.kmemleak is None and leak is None:
            leak = []
        elif line.startswith('@@KMEMLEAK END') and leak is not None:
            ch.kmemleak, leak = ''.join(l + '\n' for l in leak), None
        elif leak is not None:
            leak.append(line)
        if '@@DONE' in line:
            ch.done = True
        if line.startswith('@@PROBE ok'):
            ch.probed = True
        m = re.match(r'@@EXIT (\d+)', line)
        if m and ch.exit is None:
            ch.exit = int(m.group(1))
    if test:
        ch.tests[test] = TestRun(test, '\n'.join(buf), None)
    return ch
