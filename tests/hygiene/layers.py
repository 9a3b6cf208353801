"""Checks lib/'s include graph against the layers of DESIGN.md: an include never runs up the
layers, and the areas of one layer include each other without a circle.
Usage: layers.py LIB_DIR; prints each offending include and exits 1 if there is any."""
import pathlib
import re
import sys

LAYERS = [
    ["common"],
    ["image"],
    ["io", "store", "morphology"],
    ["model", "postprocess", "measure", "batch", "eval"],
    ["train", "infer", "report"],
    ["pipeline"],
]
LEVEL = {area: level for level, areas in enumerate(LAYERS) for area in areas}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def area_edges(lib):
    edges = {}
    for source in sorted(lib.rglob("*")):
        if source.suffix not in (".hpp", ".cpp", ".in"):
            continue
        area = source.relative_to(lib).parts[0]
        for target in INCLUDE.findall(source.read_text()):
            if target != area:
                edges.setdefault((area, target), []).append(str(source.relative_to(lib)))
    return edges


def upward(edges):
    problems = []
    for (area, target), files in sorted(edges.items()):
        if area not in LEVEL or target not in LEVEL:
            problems.append(f"{files[0]}: area '{area if area not in LEVEL else target}' is in no layer")
        elif LEVEL[target] > LEVEL[area]:
            problems.append(f"{files[0]}: {area} (layer {LEVEL[area]}) includes {target} (layer {LEVEL[target]})")
    return problems


def circles(edges):
    graph = {}
    for area, target in edges:
        graph.setdefault(area, set()).add(target)
    problems, state = [], {}

    def visit(area, path):
        state[area] = "open"
        for target in sorted(graph.get(area, ())):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [target]
                problems.append("circle: " + " -> ".join(cycle))
            elif target not in state:
                visit(target, path + [target])
        state[area] = "done"

    for area in sorted(graph):
        if area not in state:
            visit(area, [area])
    return problems


def main():
    lib = pathlib.Path(sys.argv[1])
    edges = area_edges(lib)
    problems = upward(edges) + circles(edges)
    for p in problems:
        print(p)
    print(f"{len(edges)} area-to-area include edges checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
