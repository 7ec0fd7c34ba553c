#!/usr/bin/env python3
"""Writes DIR/spec.toml: N local `file` resources over four stages, the files under DIR/files.

Default shape, like a cutover's config files: each quarter of the files enters at the next
stage; every tenth changes its content a stage later, every fiftieth is removed at cleanup,
every fourth has a mode, every tenth waits (`after`) for one ten before it and every twentieth
names the path of one without references in its content (so no chain: the --chain spec is the
one with chains). References and waits point at earlier files, so never at a later stage.

--chain: each file's content is the one before's (`${file.f(i-1).content}`), one chain N long.

Usage: make_spec.py N DIR [--chain]
"""
import os
import sys

n, root, chain = int(sys.argv[1]), sys.argv[2], "--chain" in sys.argv[3:]
stages = ["prepare", "freeze", "switch", "cleanup"]
files = os.path.join(root, "files")
# Apply does not make a file's folder; a thousand files a folder keeps directories small.
for d in range((n + 999) // 1000):
    os.makedirs(os.path.join(files, "d%d" % d), exist_ok=True)

out = ['version = 1\nname = "plan-scale"\nstages = ["%s"]\n' % '", "'.join(stages)]
for i in range(n):
    s = i * 4 // n
    out.append('[file.f%d]\nstage = "%s"\nhost = "local"\npath = "%s/d%d/f%d"\n' % (i, stages[s], files, i // 1000, i))
    if chain:
        out.append('content = "%s"\n' % ("${file.f%d.content}" % (i - 1) if i else "start\\n"))
        continue
    if i % 20 == 3:
        out.append('content = "f%d follows ${file.f%d.path}\\n"\n' % (i, i - 3))
    else:
        out.append('content = "f%d at %s\\n"\n' % (i, stages[s]))
    if i % 4 == 1:
        out.append('mode = "0640"\n')
    if i % 10 == 2 and i >= 10:
        out.append('after = ["file.f%d"]\n' % (i - 10))
    if i % 10 == 5 and s < 3:
        out.append('[file.f%d.at.%s]\ncontent = "f%d changed at %s\\n"\n' % (i, stages[s + 1], i, stages[s + 1]))
    elif i % 50 == 7 and s < 3:
        out.append('[file.f%d.at.cleanup]\nensure = "absent"\n' % i)
with open(os.path.join(root, "spec.toml"), "w") as f:
    f.write("".join(out))
