"""The C++ config loader and a standard JSON Schema validator accept and refuse the same
documents; every example config validates against its schema."""
import glob
import json
import os

import jsonschema

from nucseg_testlib import SOURCE, check, run


def schema(name):
    with open(os.path.join(SOURCE, "schemas", f"{name}.schema.json")) as fh:
        s = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def cpp_valid(name, path):
    p = run("validate-config", "--schema", name, path, expect=None)
    check(p.returncode in (0, 2), f"validate-config exit {p.returncode}: {p.stderr}")
    return p.returncode == 0, p.stdout


def test_corpus_agrees():
    corpus = os.path.join(SOURCE, "tests", "data", "config")
    n = 0
    for name in sorted(os.listdir(corpus)):
        v = schema(name)
        for path in sorted(glob.glob(os.path.join(corpus, name, "*.json"))):
            with open(path) as fh:
                doc = json.load(fh)
            py_ok = v.is_valid(doc)
            cpp_ok, out = cpp_valid(name, path)
            check(py_ok == cpp_ok, f"{path}: jsonschema says {py_ok}, nucseg says {cpp_ok}: {out}")
            expected = os.path.basename(path).startswith("valid")
            check(py_ok == expected, f"{path}: corpus file name says valid={expected}")
            if not cpp_ok:
                check("key '" in out or "unknown key" in out or "document" in out, f"key not named: {out}")
            n += 1
    check(n >= 20, f"corpus too small: {n}")
    print(f"{n} documents agree")


def test_examples_validate():
    files = sorted(glob.glob(os.path.join(SOURCE, "examples", "*.json")))
    check(files, "no example configs")
    for path in files:
        name = os.path.basename(path).split(".")[0].split("-")[0]
        with open(path) as fh:
            doc = json.load(fh)
        errors = list(schema(name).iter_errors(doc))
        check(not errors, f"{path}: {errors[:1]}")
        ok, out = cpp_valid(name, path)
        check(ok, f"{path}: nucseg refuses it: {out}")


if __name__ == "__main__":
    test_corpus_agrees()
    test_examples_validate()
    print("ok")
