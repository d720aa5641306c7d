"""The house's rules, checked on the code as it stands: the import contracts of
.importlinter (import-linter), no module that imports another which imports it
back, and no domain words in the identifiers of signaling/ and booking/."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["portal", "telecare", "classrooms", "signaling", "booking", "accounts", "communes", "config"]

DOMAIN_WORDS = re.compile("teacher|pupil|doctor|station|patient|lesson|consultation", re.IGNORECASE)
# The only names in signaling/ and booking/ allowed to carry a domain word: (path, name) → why.
# None now: the lessons' settings are read by classrooms' room kind, which signaling asks.
DOMAIN_WORD_EXCEPTIONS: dict[tuple[str, str], str] = {}


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(lint), "--no-cache", "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in run.stdout


def import_cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_one_that_imports_it_back():
    # Imports inside functions count too: grimp reads the whole module.
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_circle():
    class Graph:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges.get(module, set())

    assert import_cycles(Graph()) == [["a", "b", "c"]]


def identifiers(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(part for part in (node.asname or node.name).split("."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(node.module.split("."))
    return names


def domain_words(source: str, path: str) -> set[str]:
    found = {name for name in identifiers(ast.parse(source)) if DOMAIN_WORDS.search(name)}
    if DOMAIN_WORDS.search(Path(path).stem):
        found.add(f"<module {Path(path).stem}>")
    return {name for name in found if (path, name) not in DOMAIN_WORD_EXCEPTIONS}


@pytest.mark.parametrize("package", ["signaling", "booking"])
def test_signaling_and_booking_know_no_domain_by_name(package):
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative:
            continue
        if names := domain_words(path.read_text(), relative):
            found[relative] = sorted(names)
    assert found == {}


def test_the_domain_word_check_sees_names_not_texts():
    source = 'def notify(teacher_id):\n    x.pupil_count = 1\n    return "teacher"  # a lesson\n'
    assert domain_words(source, "booking/x.py") == {"teacher_id", "pupil_count"}
    assert domain_words("", "signaling/lessons.py") == {"<module lessons>"}


def test_every_exception_is_still_needed():
    for path, name in DOMAIN_WORD_EXCEPTIONS:
        assert name in identifiers(ast.parse((ROOT / path).read_text())), (path, name)
