#!/usr/bin/env python3
"""The include checker on small planted trees: it passes a clean one and fails, naming file:line
and the edge, on a cycle, a private reach, an edge the graph does not allow, and a stale pending
edge."""

import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_includes.py")

GRAPH = """\
module common:
module table: common
module metric: common table
module cli: common table metric
header error.hpp common
header table.hpp table
header metric.hpp metric
expose common/*.hpp: *
"""


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def clean_tree(root):
    write(root, "docs/module-graph.txt", GRAPH)
    write(root, "include/compe/error.hpp", "#pragma once\n")
    write(root, "include/compe/table.hpp", '#pragma once\n#include "compe/error.hpp"\n')
    write(root, "include/compe/metric.hpp", '#pragma once\n#include "compe/table.hpp"\n')
    write(root, "src/common/error.cpp", '#include "compe/error.hpp"\n#include "common/shared.hpp"\n')
    write(root, "src/common/shared.hpp", "#pragma once\n")
    write(root, "src/table/table.cpp",
          '#include <vector>\n#include "compe/table.hpp"\n#include "table/private.hpp"\n'
          '#include "common/shared.hpp"\n')
    write(root, "src/table/private.hpp", "#pragma once\n")
    write(root, "src/metric/metric.cpp", '#include "compe/metric.hpp"\n#include "detail.hpp"\n')
    write(root, "src/metric/detail.hpp", "#pragma once\n")
    write(root, "cli/main.cpp", '#include "compe/metric.hpp"\n#include "output.hpp"\n')
    write(root, "cli/output.hpp", "#pragma once\n")


def run_checker(root):
    p = subprocess.run([sys.executable, CHECKER, "--root", root], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


class CheckIncludes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        clean_tree(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def test_clean_tree_passes(self):
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 0, out)
        self.assertIn("module graph ok", out)

    def test_planted_private_reach_fails(self):
        write(self.root, "src/metric/auc.cpp", '#include "compe/metric.hpp"\n\n#include "table/private.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("src/metric/auc.cpp:3: private reach metric -> table", out)

    def test_planted_relative_private_reach_fails(self):
        write(self.root, "src/metric/auc.cpp", '#include "../table/private.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("src/metric/auc.cpp:1: private reach metric -> table", out)

    def test_private_reach_from_a_face_fails(self):
        write(self.root, "cli/run.cpp", '#include "metric/detail.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("cli/run.cpp:1: private reach cli -> metric", out)

    def test_planted_cycle_fails(self):
        # table -> metric is not allowed, and with metric -> table it closes a cycle.
        write(self.root, "src/table/csv.cpp", '#include "compe/table.hpp"\n#include "compe/metric.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("src/table/csv.cpp:2: forbidden edge table -> metric", out)
        self.assertIn("cycle among the modules: metric -> table (", out)
        self.assertIn("table -> metric (src/table/csv.cpp:2)", out)

    def test_cycle_through_public_headers_fails(self):
        write(self.root, "include/compe/table.hpp", '#pragma once\n#include "compe/metric.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("include/compe/table.hpp:2: forbidden edge table -> metric", out)
        self.assertIn("cycle among the modules", out)

    def test_cycle_in_the_allowed_graph_fails(self):
        write(self.root, "docs/module-graph.txt", GRAPH.replace("module table: common",
                                                                "module table: common metric"))
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("the allowed graph has a cycle: metric -> table -> metric", out)

    def test_pending_edge_is_reported_not_failed_and_stale_one_fails(self):
        write(self.root, "src/table/csv.cpp", '#include "compe/metric.hpp"\n')
        write(self.root, "docs/module-graph.txt", GRAPH + "pending table -> metric: moving\n")
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 0, out)
        self.assertIn("pending table -> metric (first at src/table/csv.cpp:1): moving", out)
        os.remove(os.path.join(self.root, "src/table/csv.cpp"))
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("module-graph.txt:9: pending edge table -> metric no longer occurs", out)

    def test_unowned_public_header_and_undeclared_module_fail(self):
        write(self.root, "include/compe/segment.hpp", "#pragma once\n")
        write(self.root, "src/segment/rle.cpp", '#include "compe/error.hpp"\n')
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 1, out)
        self.assertIn("include/compe/segment.hpp: public header with no owner", out)
        self.assertIn("src/segment/rle.cpp: module 'segment' is not declared", out)

    def test_malformed_graph_is_bad_input(self):
        write(self.root, "docs/module-graph.txt", GRAPH + "modul x: y\n")
        rc, out = run_checker(self.root)
        self.assertEqual(rc, 2, out)
        self.assertIn("module-graph.txt:9: unknown line kind 'modul'", out)


if __name__ == "__main__":
    unittest.main()
