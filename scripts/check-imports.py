#!/usr/bin/env python3
"""Checks that every target's dependencies in Package.swift are exactly the modules its
Swift files import: a module imported but not declared builds only by accident (another
target pulled it in), a module declared but not imported is a false edge in the layering.

Reads Package.swift as text (no toolchain needed). Imports of the platform and toolchain
(Foundation, Glibc, Testing, …) are not dependencies and are left out. Exit status 1 and
one line per mismatch when a target is off; 0 and a summary line when all match.
Usage: scripts/check-imports.py [PACKAGE_DIR]
"""
import os
import re
import sys

# Modules of the SDK and the toolchain: imported, never declared.
SYSTEM = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Glibc", "Musl", "Darwin", "Dispatch",
          "Synchronization", "Testing", "XCTest", "Swift", "_Concurrency", "os", "CoreFoundation"}

IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+|public\s+|internal\s+|package\s+)*import\s+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)
TARGET = re.compile(r"\.(target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*\"([^\"]+)\"")
VARIABLE = re.compile(r"let\s+(\w+)\s*=\s*Target\.Dependency\.product\(\s*name:\s*\"([^\"]+)\"")


def closing(text, start, open_char, close_char):
    """Index just after the bracket matching the one at `start`."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == open_char:
            depth += 1
        elif text[index] == close_char:
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError(f"unbalanced {open_char} at {start}")


def declared_targets(manifest):
    variables = dict(VARIABLE.findall(manifest))
    targets = []
    for match in TARGET.finditer(manifest):
        kind, name = match.groups()
        call = manifest[match.start():closing(manifest, manifest.index("(", match.start()), "(", ")")]
        dependencies = set()
        found = re.search(r"dependencies:\s*\[", call)
        if found:
            start = found.end() - 1
            body = call[start:closing(call, start, "[", "]")]
            products = re.findall(r"\.product\(\s*name:\s*\"([^\"]+)\"", body)
            dependencies.update(products)
            body = re.sub(r"\.product\([^)]*\)", "", body)
            dependencies.update(name.replace("-", "_") for name in re.findall(r"\"([^\"]+)\"", body))
            for word in re.findall(r"\b([a-z]\w*)\b", body):
                if word in variables:
                    dependencies.add(variables[word])
        path = re.search(r"path:\s*\"([^\"]+)\"", call)
        default = "Tests" if kind == "testTarget" else "Sources"
        targets.append((kind, name, path.group(1) if path else f"{default}/{name}", dependencies))
    return targets


def code_imports(text):
    """The imports of Swift code, not of other languages' code in multi-line strings."""
    found, in_string = [], False
    for line in text.splitlines():
        if not in_string:
            found += IMPORT.findall(line)
        if line.count('"""') % 2 == 1:
            in_string = not in_string
    return found


def imports(directory):
    found = set()
    for root, _, files in os.walk(directory):
        for file in files:
            if file.endswith(".swift"):
                with open(os.path.join(root, file), encoding="utf-8") as source:
                    found.update(code_imports(source.read()))
    return found - SYSTEM


def main():
    package = sys.argv[1] if len(sys.argv) > 1 else "."
    with open(os.path.join(package, "Package.swift"), encoding="utf-8") as manifest:
        targets = declared_targets(manifest.read())
    problems = []
    for kind, name, path, dependencies in targets:
        if kind == "systemLibrary":
            continue
        directory = os.path.join(package, path)
        if not os.path.isdir(directory):
            problems.append(f"{name}: no folder {path}")
            continue
        used = imports(directory) - {name.replace("-", "_")}
        for module in sorted(used - dependencies):
            problems.append(f"{name}: imports {module} but does not declare it")
        for module in sorted(dependencies - used):
            problems.append(f"{name}: declares {module} but imports it nowhere")
    for problem in problems:
        print(f"check-imports: {problem}")
    if problems:
        return 1
    print(f"check-imports: {len(targets)} targets, dependencies match imports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
