# SPDX-License-Identifier: GPL-2.0
"""Booting a test kernel in QEMU: the command line from the arch's facts
(arches.conf) and topology (topology/ARCH.qemu), the accelerator (TCG; KVM
only if a probe guest boots with it), the time limit, and the two logs: the
console and the guest's output channel (its protocol: protocol.py)."""
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

import protocol

HERE = os.path.dirname(os.path.realpath(__file__))
ARCHES_CONF = os.path.join(HERE, 'arches.conf')


@dataclass
class Arch:
    """The facts of one arch that boots (arches.conf says what each is)."""
    name: str
    qemu: str
    bare: List[str]
    console: str
    out: str
    outdev: str
    cmdline: str
    firmwares: List[str]
    uefi: str = ''
    dt_extra: str = ''

    def outdev_args(self, path):
        return [a.replace('{path}', path) for a in shlex.split(self.outdev)]


def arch_facts(path=ARCHES_CONF):
    """{arch: {key: value}} of every arch in arches.conf."""
    facts = {}
    with open(path) as f:
        for line in f:
            words = line.split(None, 2)
            if not words or words[0].startswith('#'):
                continue
            value = words[2].strip() if len(words) > 2 else ''
            facts.setdefault(words[0], {})[words[1]] = value
    return facts


def bootable_arches(path=ARCHES_CONF):
    """{name: Arch} of the arches that boot (those with a QEMU)."""
    arches = {}
    for name, f in arch_facts(path).items():
        if f.get('qemu'):
            arches[name] = Arch(name=name, qemu=f['qemu'], bare=shlex.split(f.get('bare', '')),
                                console=f['console'], out=f['out'], outdev=f['outdev'],
                                cmdline=f.get('cmdline', ''),
                                firmwares=f.get('firmwares', 'dt').split(),
                                uefi=f.get('uefi', ''), dt_extra=f.get('dt_extra', ''))
    return arches


ARCHES = bootable_arches()

# How the guest learns its hardware: 'dt' boots the kernel directly with the
# device tree QEMU generates; 'acpi' (arm64) boots it through UEFI, which
# hands over QEMU's ACPI tables (IORT, MCFG, ...) instead.
FIRMWARES = ('acpi', 'dt')


def firmware_args(arch, firmware):
    """(QEMU arguments, kernel command line) of a boot with @firmware."""
    if firmware == 'acpi':
        return ['-bios', arch.uefi], 'acpi=force'
    return [], ''


def firmware_problem(arch, firmware):
    """Why @arch cannot boot with @firmware, or None."""
    if firmware not in arch.firmwares:
        return f'--firmware {firmware} is not available on {arch.name}'
    if firmware == 'acpi' and not os.path.exists(arch.uefi):
        return f'{arch.uefi} not found (run "make deps")'
    return None


@dataclass
class BootConfig:
    """One boot. mode: resv.mode of init (protocol.py); topology: boot the
    arch's topology (or @topology_file), else its bare machine; echo: print
    the guest's output as it comes."""
    arch: str
    kernel: str
    initrd: str
    logbase: str
    mode: str = 'tests'
    accel: str = 'tcg'
    timeout: int = 900
    # tests mode: a guest that has not written @@BEGIN this many seconds
    # after QEMU started is taken as hung before its tests (0: no limit)
    begin_timeout: int = 0
    extra: List[str] = field(default_factory=list)
    firmware: str = 'dt'
    cmdline: str = ''
    topology: bool = True
    topology_file: Optional[str] = None
    echo: bool = False


@dataclass
class BootResult:
    """What a boot left: the output channel (out, and parsed: channel), the
    console, what QEMU printed."""
    out: str
    console: str
    console_log: str
    timed_out: bool = False
    rc: Optional[int] = 0
    qemu_out: str = ''
    seconds: float = 0.0
    channel: protocol.Channel = None
    began: Optional[float] = None  # seconds to @@BEGIN, if seen while booting
    silent: bool = False  # stopped: no @@BEGIN within begin_timeout

    def __post_init__(self):
        if self.channel is None:
            self.channel = protocol.parse(self.out)

    @property
    def ok(self):
        return not self.timed_out and self.rc == 0


def topology_args(path):
    args = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                args += shlex.split(line)
    return args


def probe_kvm(arch, kernel, initrd, logdir):
    """KVM only if a probe guest boots with it (here it fails: use TCG)."""
    if arch != 'x86_64' or os.uname().machine != 'x86_64' or \
            not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'tcg'
    cache = os.path.join(logdir, '..', 'kvm-probe')
    if os.path.exists(cache):
        with open(cache) as f:
            return f.read().strip()
    res = boot(BootConfig(arch, kernel, initrd, os.path.join(logdir, 'kvm-probe'), mode='probe',
                          accel='kvm', timeout=15, topology=False))
    accel = 'kvm' if res.ok and res.channel.probed else 'tcg'
    with open(cache, 'w') as f:
        f.write(accel + '\n')
    print(f'vmrun: KVM probe guest {"booted" if accel == "kvm" else "failed"}; using {accel.upper()}')
    return accel


def qemu_command(cfg, console_log, out_log):
    """The QEMU command of @cfg; a DT boot that extends QEMU's device tree
    runs QEMU once first to get it."""
    a = ARCHES[cfg.arch]
    fw_args, fw_cmdline = firmware_args(a, cfg.firmware)
    dt_extra = (a.dt_extra if cfg.topology and not cfg.topology_file and cfg.firmware == 'dt'
                else '')
    append = (f'console={a.console} {a.cmdline} {fw_cmdline} panic=-1 printk.time=0 '
              f'resv.mode={cfg.mode} resv.out={a.out} '
              f'resv.timeout={max(cfg.timeout - 30, 30)} '
              # iommu_resv_platform: the devices the DT adds must be found.
              f'{"RESV_DT_PLATFORM=1 " if dt_extra else ""}{cfg.cmdline}')
    cmd = [a.qemu]
    if cfg.topology:
        cmd += topology_args(cfg.topology_file or
                             os.path.join(HERE, 'topology', cfg.arch + '.qemu'))
    else:
        cmd += a.bare
    if cfg.accel == 'icount':
        # Guest time is instructions executed: a host-independent cost.
        cmd += ['-accel', 'tcg,thread=single', '-icount', 'shift=0,sleep=off']
    else:
        cmd += ['-accel', cfg.accel]
    cmd += ['-display', 'none', '-monitor', 'none', '-no-reboot',
            '-serial', 'file:' + console_log]
    cmd += a.outdev_args(out_log)
    cmd += fw_args
    cmd += ['-kernel', cfg.kernel, '-initrd', cfg.initrd, '-append', ' '.join(append.split())]
    cmd += cfg.extra
    if dt_extra:
        cmd += ['-dtb', extended_dtb(cmd, os.path.join(HERE, 'topology', dt_extra),
                                     cfg.logbase)]
    return cmd


def read_log(path):
    if not os.path.exists(path):
        return ''
    with open(path, errors='replace') as f:
        return f.read().replace('\r\n', '\n')


def boot(cfg):
    """Boot @cfg until the guest powers off or its time is up: a BootResult.
    Writes LOGBASE.console.log, LOGBASE.out.log and the command, LOGBASE.cmd."""
    console_log = cfg.logbase + '.console.log'
    out_log = cfg.logbase + '.out.log'
    for p in (console_log, out_log):
        if os.path.exists(p):
            os.unlink(p)
    open(out_log, 'w').close()
    cmd = qemu_command(cfg, console_log, out_log)
    with open(cfg.logbase + '.cmd', 'w') as f:
        f.write(shlex.join(cmd) + '\n')
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    shown = 0
    timed_out = silent = False
    began = None
    while proc.poll() is None:
        if cfg.echo:
            shown = echo_new(out_log, shown)
        elapsed = time.monotonic() - start
        if began is None and cfg.begin_timeout:
            if has_begun(out_log):
                began = elapsed
            elif elapsed > cfg.begin_timeout:
                silent = True
        if silent or elapsed > cfg.timeout:
            proc.kill()
            timed_out = True
            break
        time.sleep(0.2)
    qemu_out = proc.communicate()[0]
    if cfg.echo:
        echo_new(out_log, shown)
    return BootResult(out=read_log(out_log), console=read_log(console_log),
                      console_log=console_log, timed_out=timed_out, rc=proc.returncode,
                      qemu_out=qemu_out, seconds=time.monotonic() - start,
                      began=began, silent=silent)


def has_begun(out_log):
    """Whether init has written @@BEGIN (within the log's first lines)."""
    with open(out_log, 'rb') as f:
        head = f.read(65536)
    return any(l.startswith(b'@@BEGIN') for l in head.splitlines())


def extended_dtb(cmd, dtsi, logbase):
    """The device tree QEMU generates for @cmd, with @dtsi appended (dtc)."""
    dtb, dts = logbase + '.qemu.dtb', logbase + '.dts'

    def run(c):
        res = subprocess.run(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        if res.returncode:
            sys.exit(f'vmrun: error: {shlex.join(c[:3])}... failed: {res.stderr.strip()}')

    run(cmd + ['-machine', 'dumpdtb=' + dtb])
    run(['dtc', '-q', '-I', 'dtb', '-O', 'dts', '-o', dts, dtb])
    with open(dts, 'a') as out, open(dtsi) as extra:
        out.write('\n' + extra.read())
    run(['dtc', '-q', '-I', 'dts', '-O', 'dtb', '-o', logbase + '.dtb', dts])
    return logbase + '.dtb'


def echo_new(path, shown):
    """Print the complete lines added to @path since byte @shown, but the
    protocol's (they are for the host)."""
    with open(path, 'rb') as f:
        f.seek(shown)
        data = f.read()
    cut = data.rfind(b'\n') + 1
    for line in data[:cut].decode(errors='replace').splitlines():
        line = line.rstrip('\r')
        if not protocol.is_protocol(line):
            print(line, flush=True)
    return shown + cut
