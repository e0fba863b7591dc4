"""Run the ``physfact`` command with stderr on a pseudo-terminal, as a user at a terminal sees it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_with_terminal_stderr(args, cwd=None, timeout=300):
    """Run ``python -m physfact.cli *args`` with stderr on a pty (stdout piped); return (rc, stdout, stderr)."""
    import fcntl
    import select
    import struct
    import termios

    master, slave = os.openpty()
    # a new pty is 0 x 0 characters: give it a real terminal's size, or tqdm has no room to draw
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "physfact.cli", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:  # drain the terminal while the command runs (a full pty buffer would block it)
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=timeout), out, b"".join(chunks).decode(errors="replace")
