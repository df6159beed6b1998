#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# The engine's layering, checked from its sources: which engine file calls a
# function (or includes a header) of which other file. Fails, naming the files,
# when the files form a loop (a strongly connected component of more than one
# file, headers counted with their .c) or when an engine file includes GTK.
# Usage: check-engine-layers.py ENGINE_DIR [--graph] [--tap]
import os, re, sys

root = sys.argv[1]
show = '--graph' in sys.argv
units = {}          # unit (path without extension) -> text of .c and .h
code = {}           # unit -> text of its .c only (a header's prototypes call nothing)
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith(('.c', '.h', '.cc')):
            p = os.path.join(d, f)
            u = os.path.relpath(os.path.splitext(p)[0], root)
            t = open(p, encoding='utf-8').read() + '\n'
            units[u] = units.get(u, '') + t
            if not f.endswith('.h'):
                code[u] = code.get(u, '') + t

def strip(t):
    t = re.sub(r'/\*.*?\*/', ' ', t, flags=re.S)
    t = re.sub(r'//[^\n]*', ' ', t)
    return re.sub(r'"(\\.|[^"\\])*"', '""', t)

defs = {}           # function name -> unit that defines it
for u, t in code.items():
    for m in re.finditer(r'^(?:[A-Za-z_][\w \*]*\n)?(xc_\w+|_xc_\w+) \([^;{]*\)\s*\{', strip(t), re.M):
        defs[m.group(1)] = u
bad = []
edges = {u: set() for u in units}
for u, t in units.items():
    s = strip(t)
    if re.search(r'#include\s*<(gtk|gdk/gdk|adwaita)', t):
        bad.append(f'{u}: includes GTK (the engine never depends on GTK)')
    for m in re.finditer(r'#include\s*"([^"]+)"', t):
        base = os.path.splitext(m.group(1))[0]
        for v in units:
            if v != u and (v == base or v.endswith('/' + os.path.basename(base))) and \
               os.path.basename(v) == os.path.basename(base):
                edges[u].add(v)
    for name in set(re.findall(r'\b(_?xc_\w+)\s*\(', strip(code.get(u, '')))):
        v = defs.get(name)
        if v and v != u:
            edges[u].add(v)

# Tarjan's strongly connected components
index, low, on, stack, comps, n = {}, {}, set(), [], [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        comps.append(c)
for v in sorted(units):
    if v not in index:
        visit(v)
for c in comps:
    if len(c) > 1:
        bad.append('loop among ' + ', '.join(sorted(c)))
if show:
    for u in sorted(edges):
        print(u, '->', ' '.join(sorted(edges[u])))
summary = (f'{len(units)} engine units, {sum(len(e) for e in edges.values())} dependencies, '
           f'{len(bad)} problems')
if '--tap' in sys.argv:
    print('1..1')
    for b in bad:
        print('# engine layering:', b)
    print(('ok' if not bad else 'not ok') + ' 1 /layout/engine-layers - ' + summary)
else:
    for b in bad:
        print('engine layering:', b)
    print(summary)
sys.exit(1 if bad else 0)
