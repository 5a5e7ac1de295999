"""The mutation check: deliberate breaks of the code, each of which the tests must catch.

``python tests/mutations.py`` copies the repository to a temporary folder, and for each break
below applies it to the copy, runs the tests that should catch it (a fast subset, not the whole
suite), and counts it killed when they fail. It prints one line per break and the kill rate,
and exits 1 when a break survived (or could no longer be applied: the code moved, so the list
must follow it). ``.ci/run`` runs it; ``tests/test_mutations.py`` checks that every break still
applies, so the list cannot rot between CI runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation(
        "myst: mystmd runs in the author's folder instead of its private copy",
        "src/livecells/myst/project.py",
        "cwd=self.shadow,",
        "cwd=self.root,",
        ("tests/test_myst.py::test_headings_have_anchors_with_a_link_icon",),
    ),
    Mutation(
        "myst: an include outside the folder is read",
        "src/livecells/myst/project.py",
        'if target.startswith("/") or not resolved.is_relative_to(self.root):',
        "if False:",
        ("tests/test_myst.py::test_an_include_outside_the_folder_is_an_error_and_never_read",),
    ),
    Mutation(
        "myst: cross-references lose their link",
        "src/livecells/myst/html.py",
        """return f'<a class="lc-xref" href="{_e(base)}#{_e(anchor)}">{body}</a>'""",
        "return body",
        ("tests/test_myst.py::test_cross_references_are_links_with_their_text",),
    ),
    Mutation(
        "render: a remove-cell cell reaches the page",
        "src/livecells/render.py",
        'if block.get("visibility") == "remove":\n        return ""',
        "pass",
        ("tests/test_myst.py::test_cell_tags_are_honoured",),
    ),
    Mutation(
        "myst: an untrusted page embeds iframes",
        "src/livecells/myst/html.py",
        "if not self.trusted:",
        "if False:",
        (
            "tests/test_render.py::test_an_untrusted_pages_markdown_keeps_its_prose_and_loses_what_could_run",
        ),
    ),
    Mutation(
        "public: connected kernels are never culled (cull_connected off)",
        "src/livecells/commands/serve.py",
        '"MappingKernelManager.cull_connected": True,',
        '"MappingKernelManager.cull_connected": False,',
        ("tests/server/test_public.py::test_the_site_wide_limit_and_idle_culling",),
    ),
    Mutation(
        "messages: a corrupt JSON part of a v1 frame decodes as {}",
        "src/livecells/messages.py",
        'raise MessageError(f"malformed message: {what} is not valid JSON ({exc})") from None',
        "return {}",
        ("tests/test_messages.py",),
    ),
    Mutation(
        "messages: an unknown channel is accepted",
        "src/livecells/messages.py",
        "if not isinstance(channel, str) or channel not in CHANNELS:",
        "if not isinstance(channel, str):",
        ("tests/test_messages.py",),
    ),
    Mutation(
        "execute: the skip-execution tag is ignored",
        "src/livecells/execute.py",
        "and SKIP_TAG not in cell.get",
        "and 'never' not in cell.get",
        ("tests/test_execute.py::test_skip_execution_tag_leaves_the_cell_as_it_was",),
    ),
    Mutation(
        "reports: a failed notebook exits 0",
        "src/livecells/reports.py",
        'if "failed" in statuses:\n            return 1',
        'if "failed" in statuses:\n            return 0',
        (
            "tests/test_cli_run.py::test_a_failure_names_notebook_cell_and_error_and_shows_the_traceback",
        ),
    ),
    Mutation(
        "outputs: clear_output(wait=True) clears at once",
        "src/livecells/outputs.py",
        'if msg.content.get("wait"):',
        "if False:",
        ("tests/test_outputs.py",),
    ),
    Mutation(
        "public: the per-visitor kernel limit is not enforced",
        "src/livecells/server/public.py",
        "if self.max_kernels_per_visitor and mine >= self.max_kernels_per_visitor:",
        "if False:",
        ("tests/server/test_public.py::test_the_kernels_per_visitor_limit_says_what_to_do",),
    ),
    Mutation(
        "public: a visitor may use another visitor's kernel",
        "src/livecells/server/public.py",
        "if owner != user.username:",
        "if False:",
        (
            "tests/server/test_public.py::"
            "test_each_visitor_runs_on_their_own_kernel_and_cannot_touch_anothers",
        ),
    ),
    Mutation(
        "notebooks: hidden folders are walked",
        "src/livecells/notebooks.py",
        'if not name.startswith(".")\n            and name not in SKIPPED_DIRS',
        "if name not in SKIPPED_DIRS",
        (
            "tests/test_pages.py::test_pages_are_found_recursively_skipping_hidden_and_build_folders",
        ),
    ),
    Mutation(
        "config: an unknown key is accepted",
        "src/livecells/config.py",
        "        if key not in allowed:\n            raise ConfigError(",
        "        if False:\n            raise ConfigError(",
        ("tests/test_config.py",),
    ),
    Mutation(
        "setup: import livecells loads the CLI's display",
        "src/livecells/__init__.py",
        "from livecells.batch import BatchOptions, run_many\n",
        "from livecells.batch import BatchOptions, run_many\nimport livecells.commands.progress\n",
        ("tests/test_setup.py::test_import_livecells_loads_neither_rich_nor_yaml",),
    ),
    Mutation(
        "serve: as root, --allow-root is not passed",
        "src/livecells/commands/serve.py",
        'argv.insert(0, "--allow-root")',
        "pass",
        ("tests/test_setup.py::test_as_root_serve_says_what_allow_root_means_and_serves",),
    ),
    Mutation(
        "client: a v1 frame with too few parts is decoded",
        "frontend/src/protocol.ts",
        "if (count < 6 || 8 * (count + 1) > data.byteLength)",
        "if (8 * (count + 1) > data.byteLength)",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "client: a page config that is not an object is used",
        "frontend/src/config.ts",
        'if (typeof given !== "object" || given === null || Array.isArray(given)) {',
        "if (false) {",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "config: jupyter: true means Pyodide again, not MyST's Binder",
        "src/livecells/config.py",
        'if value is True or value == "binder":',
        "if value is True:\n        return Jupyter(enabled=True, lite=True)\n"
        '    if value == "binder":',
        ("tests/test_wheels.py::test_a_binder_build_never_resolves_the_binder_requirements",),
    ),
    Mutation(
        "pageconfig: Pyodide is offered beside Binder and servers unasked",
        "src/livecells/pageconfig.py",
        'pyodide = jupyter.lite or jupyter.runtime is None or chosen == "pyodide"',
        "pyodide = True",
        ("tests/test_wheels.py::test_a_lite_page_beside_binder_pages_resolves_only_its_own",),
    ),
    Mutation(
        "serve: the wheels are resolved before the server listens",
        "src/livecells/server/app.py",
        "IOLoop.current().add_callback(self.wheels.run)",
        "self.wheels.directory = self.wheels._resolve()",
        ("tests/browser/test_serve_wheels.py",),
    ),
    Mutation(
        "wheels: no time bound on pip",
        "src/livecells/wheels.py",
        "check=False, timeout=left",
        "check=False",
        ("tests/test_wheels.py::test_resolving_past_the_time_bound_is_one_line_naming_the_file",),
    ),
    Mutation(
        "notebooks: a kernelspec without display_name is passed on as it is",
        "src/livecells/notebooks.py",
        'spec.setdefault("display_name", f"{spec[\'name\']} Kernel")',
        "pass",
        ("tests/test_notebooks.py",),
    ),
    Mutation(
        "client: the served Binder page does not name the configured runtime",
        "frontend/src/runtimes/factory.ts",
        "if (name === configured) return `${label} (the site's configured runtime)`;",
        "",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
]


def check_applicable(root: Path = ROOT) -> list[str]:
    """The breaks whose code is no longer found exactly once (the list must follow the code)."""
    stale = []
    for mutation in MUTATIONS:
        text = (root / mutation.path).read_text()
        if text.count(mutation.old) != 1:
            stale.append(f"{mutation.name}: {mutation.path} has {mutation.old!r} "
                         f"{text.count(mutation.old)} times, not once")  # fmt: skip
    return stale


def _copy(destination: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git", "node_modules", ".test-build", "__pycache__", ".*_cache", "executed", "_site"
    )
    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    modules = ROOT / "frontend" / "node_modules"
    if modules.is_dir():
        (destination / "frontend" / "node_modules").symlink_to(modules)


def run_all() -> int:
    stale = check_applicable()
    for line in stale:
        print(f"stale   {line}")
    killed = 0
    with tempfile.TemporaryDirectory(prefix="livecells-mutations-") as folder:
        copy = Path(folder) / "repo"
        _copy(copy)
        env = {**os.environ, "PYTHONPATH": str(copy / "src")}
        for mutation in MUTATIONS:
            target = copy / mutation.path
            original = target.read_text()
            if original.count(mutation.old) != 1:
                continue
            target.write_text(original.replace(mutation.old, mutation.new))
            began = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                 "--no-header", *mutation.tests],
                cwd=copy, env=env, capture_output=True, text=True,
            )  # fmt: skip
            target.write_text(original)
            took = time.monotonic() - began
            if done.returncode == 1:
                killed += 1
                print(f"killed  {mutation.name} ({took:.0f} s)", flush=True)
            else:
                last = (done.stdout.strip().splitlines() or ["no output"])[-1]
                print(f"SURVIVED {mutation.name}: exit {done.returncode}, {last}", flush=True)
    total = len(MUTATIONS)
    print(f"mutation check: {killed} of {total} breaks caught ({100 * killed / total:.0f}%)")
    print(f"mutations: {killed} passed, {total - killed} failed")
    return 0 if killed == total else 1


if __name__ == "__main__":
    sys.exit(run_all())
