"""The mutation check: deliberate breaks of the code, each of which the tests must catch.

``python tests/mutations.py [WORD...]`` copies the repository to a temporary folder, and for
each break below (or those whose name has one of the WORDs) applies it to the copy, runs the
tests that should catch it (a fast subset, not the whole suite), and counts it killed when they
fail; two workers, each in a copy of its own, share the list (``LIVECELLS_MUTATION_JOBS``).
It prints one line per break and the kill rate, and exits 1 when a break survived (or could no
longer be applied: the code moved, so the list must follow it). ``.ci/run`` runs it;
``tests/test_mutations.py`` checks that every break still applies, so the list cannot rot
between CI runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
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
        "pagefiles: a page folder's files are not capped (maxBytes ignored)",
        "src/livecells/pagefiles.py",
        "if total + size > rules.max_bytes:",
        "if False:",
        (
            "tests/test_pagefiles.py::test_a_file_over_the_cap_is_reported_with_its_size_and_the_setting",
        ),
    ),
    Mutation(
        "pagefiles: an include glob that climbs out of the project is followed",
        "src/livecells/pagefiles.py",
        "if up > depth:",
        "if False:",
        (
            "tests/test_pagefiles.py::test_include_globs_that_leave_the_project_are_an_error_naming_the_key",
        ),
    ),
    Mutation(
        "pagefiles: a symbolic link out of the project is listed",
        "src/livecells/pagefiles.py",
        "if not path.resolve(strict=True).is_relative_to(self.root):",
        "if False:",
        ("tests/test_pagefiles.py::test_symbolic_links_out_of_the_project_are_never_listed",),
    ),
    Mutation(
        "serve: a hidden or build folder's listing is answered",
        "src/livecells/server/app.py",
        "if not (listable(folder) and target.is_relative_to(site.root) and target.is_dir()):",
        "if not target.is_dir():",
        ("tests/test_pagefiles.py::test_serve_offers_the_same_listing_from_the_files_as_they_are",),
    ),
    Mutation(
        "client: a file listing may name hidden files and climb out of the site",
        "frontend/src/runtimes/pyodide/files.ts",
        'part !== "" && !part.startsWith(".")',
        'part !== ""',
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "sandbox: every hidden folder is a writable tmpfs (RAM a visitor may fill)",
        "src/livecells/server/sandbox.py",
        "        if hide not in writable:\n",
        "        if False:\n",
        (
            "tests/server/test_sandbox.py::"
            "test_the_home_and_tmp_folders_are_private_and_writable[bwrap]",
        ),
    ),
    Mutation(
        "sandbox: a hidden folder inside the served folder comes back with it",
        "src/livecells/server/sandbox.py",
        "if any(_under(hide, [path]) and hide != path for path in bound):",
        "if False:",
        (
            "tests/server/test_sandbox.py::"
            "test_a_runtime_folder_inside_the_served_folder_stays_hidden",
        ),
    ),
    Mutation(
        "sandbox: public kernels start without the sandbox (no provisioner set)",
        "src/livecells/server/public.py",
        "if self.sandbox and self.provisioner is None:",
        "if False and self.provisioner is None:",
        ("tests/server/test_sandbox.py::test_the_cookie_secret_is_out_of_reach[bwrap]",),
    ),
    Mutation(
        "sandbox: the server's runtime folder is not hidden",
        "src/livecells/server/sandbox.py",
        "folders += [runtime_dir, jupyter_config_dir()]",
        "folders += [jupyter_config_dir()]",
        ("tests/server/test_sandbox.py::test_the_cookie_secret_is_out_of_reach[bwrap]",),
    ),
    Mutation(
        "sandbox: the served folder is bound writable",
        "src/livecells/server/sandbox.py",
        '    for path in bound:\n        args += ["--ro-bind", path, path]',
        '    for path in bound:\n        args += ["--bind", path, path]',
        ("tests/server/test_sandbox.py::test_the_served_folder_cannot_be_written[bwrap]",),
    ),
    Mutation(
        "sandbox: no PID namespace",
        "src/livecells/server/sandbox.py",
        '"--unshare-user", "--unshare-pid", "--unshare-ipc"',
        '"--unshare-user", "--unshare-ipc"',
        ("tests/server/test_sandbox.py::test_no_other_process_is_visible[bwrap-cold]",),
    ),
    Mutation(
        "sandbox: kernels do not join their cgroup",
        "src/livecells/server/sandbox.py",
        'joins = [str(folder / "cgroup.procs") for folder in self.cgroup_folders]',
        "joins = []",
        (
            "tests/server/test_sandbox.py::test_children_cannot_escape_the_memory_limit[bwrap-cold]",
            "tests/server/test_sandbox.py::test_a_fork_bomb_stops_at_the_process_limit[bwrap-cold]",
        ),
    ),
    Mutation(
        "sandbox: --kernel-network none is ignored",
        "src/livecells/server/sandbox.py",
        "network=bool(km.kernel_network),",
        "network=True,",
        (
            "tests/server/test_sandbox.py::"
            "test_kernel_network_none_cuts_the_network_but_the_kernel_still_runs",
        ),
    ),
    Mutation(
        "sandbox: secret environment variables reach the kernel",
        "src/livecells/server/sandbox.py",
        "return any(part in name.upper() for part in _SECRET_ENV)",
        "return False",
        (
            "tests/server/test_sandbox.py::"
            "test_system_secrets_and_secret_environment_variables_are_out_of_reach[bwrap]",
        ),
    ),
    Mutation(
        "serve: a --kernel-memory too small for a kernel is accepted",
        "src/livecells/commands/serve.py",
        "    if limit < minimum:\n",
        "    if False:\n",
        (
            "tests/server/test_sandbox.py::"
            "test_a_kernel_memory_too_small_to_start_a_kernel_is_refused_with_the_measured_minimum",
        ),
    ),
    Mutation(
        "serve: --public starts without a sandbox when bwrap does not work",
        "src/livecells/server/sandbox.py",
        "    if problem is None:\n        return True\n    raise ConfigError(",
        "    if problem is None:\n        return True\n    return False\n    raise ConfigError(",
        (
            "tests/server/test_sandbox.py::"
            "test_without_bwrap_public_serving_refuses_to_start_and_says_how",
        ),
    ),
    Mutation(
        "sphinx: an unknown livecells_jupyter key is accepted",
        "src/livecells/sphinx/settings.py",
        "            if key not in LIVECELLS_JUPYTER_KEYS:",
        "            if False:",
        (
            "tests/sphinx/test_extension.py::"
            "test_an_unknown_livecells_jupyter_key_fails_the_build_naming_it",
        ),
    ),
    Mutation(
        "sphinx: page metadata livecells: false is ignored",
        "src/livecells/sphinx/extension.py",
        "    if page is False or not settings.jupyter.enabled:",
        "    if not settings.jupyter.enabled:",
        (
            "tests/sphinx/test_extension.py::"
            "test_pages_without_cells_and_pages_switched_off_load_nothing",
        ),
    ),
    Mutation(
        "sphinx: thebe_config's repository is not Binder's",
        "src/livecells/sphinx/settings.py",
        "        if not binder.repo and github:",
        "        if False:",
        (
            "tests/sphinx/test_extension.py::test_a_thebe_config_alone_is_read_as_sphinx_thebe_means_it",
        ),
    ),
    Mutation(
        "sphinx: the stylesheet keeps livecells' own dark mode (prefers-color-scheme on :root)",
        "src/livecells/sphinx/theme.py",
        '        if prelude.startswith("@media") and "prefers-color-scheme: dark" in prelude:',
        '        if prelude.startswith("@never"):',
        (
            "tests/sphinx/test_extension.py::"
            "test_the_stylesheet_leaves_the_theme_alone_and_follows_its_dark_mode",
        ),
    ),
    Mutation(
        "serve _build/html: the page keeps its configured runtime",
        "src/livecells/sphinx/built.py",
        'config.update(runtime="livecells", runtimes=offered,',
        "config.update(runtimes=offered,",
        ("tests/sphinx/test_extension.py::test_served_pages_put_the_serving_kernels_first",),
    ),
    Mutation(
        "sphinx: the stylesheet keeps livecells' page rules (admonitions) on theme pages",
        "src/livecells/sphinx/theme.py",
        'OURS = re.compile(r"\\.(lc|ansi)-|^:root$")',
        'OURS = re.compile(r".")',
        (
            "tests/sphinx/test_browser.py::"
            "test_each_theme_keeps_its_styles_and_its_dark_mode_reaches_the_panel[furo]",
        ),
    ),
    Mutation(
        "sphinx: the page config is written as plain JSON (a </script> in it ends the element)",
        "src/livecells/sphinx/extension.py",
        "body=json_in_html(config.to_json())",
        "body=json.dumps(config.to_json())",
        (
            "tests/sphinx/test_extension.py::"
            "test_a_notebooks_metadata_cannot_break_out_of_the_page_config",
        ),
    ),
    Mutation(
        "serve _build/html: an HTML file outside the folder is sent",
        "src/livecells/server/built.py",
        "        if not target.is_relative_to(root) or not target.is_file() or",
        "        if not target.is_file() or",
        ("tests/sphinx/test_served.py::test_nothing_outside_the_folder_or_hidden_is_sent",),
    ),
    Mutation(
        "client: nbsphinx output rows stay outside their cell",
        "frontend/src/markup.ts",
        "    outputs.append(next);",
        "    void outputs;",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "client: MyST-NB tags are not read",
        "frontend/src/markup.ts",
        '  cell.dataset.tags = tags.join(" ");',
        '  cell.dataset.tags = "";',
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "myst: mystmd runs in the author's folder instead of its private copy",
        "src/livecells/myst/project.py",
        "return subprocess.run(\n                command,\n                cwd=self.shadow,",
        "return subprocess.run(\n                command,\n                cwd=self.root,",
        ("tests/test_myst.py::test_headings_have_anchors_with_a_link_icon",),
    ),
    Mutation(
        "myst: serve does not wait for the edited page's new AST",
        "src/livecells/myst/project.py",
        "if self._written_hash(path) == expected:",
        "if True:",
        ("tests/test_myst.py::test_serve_sees_every_edit_of_a_page_in_quick_succession",),
    ),
    Mutation(
        "myst: an include outside the folder is read",
        "src/livecells/myst/project.py",
        'if not (base / target.lstrip("/")).resolve().is_relative_to(self.root):',
        "if False:",
        (
            "tests/test_myst.py::test_an_include_outside_the_folder_is_an_error_and_never_read",
            "tests/test_myst.py::test_serve_refuses_an_include_outside_the_folder_before_listening",
        ),
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
        "myst: prose text is not escaped",
        "src/livecells/myst/html.py",
        """    def text(self, node: Node) -> str:
        return _e(node.get("value", ""))""",
        """    def text(self, node: Node) -> str:
        return str(node.get("value", ""))""",
        ("tests/test_myst_html.py::test_text_and_attributes_are_escaped",),
    ),
    Mutation(
        "myst: an unknown node type is dropped silently",
        "src/livecells/myst/html.py",
        """            self.warnings.append(
                f"{self.source}:{line}: MyST node""",
        """            return ""
            self.warnings.append(
                f"{self.source}:{line}: MyST node""",
        ("tests/test_myst_html.py",),
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
        "if limit and max(mine, here) >= limit:",
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
        "public: a gateway's kernels are not held to the output cap",
        "src/livecells/server/app.py",
        "public = PublicGatewayWebsocketConnection if gateway else PublicWebsocketConnection",
        "public = NoDelayGatewayWebsocketConnection if gateway else PublicWebsocketConnection",
        ("tests/server/test_public.py::test_a_gateways_kernels_are_held_to_the_output_cap",),
    ),
    Mutation(
        "websocket: a gateway kernel's WebSocket leaves Nagle's algorithm on",
        "src/livecells/server/websocket.py",
        "        self.websocket_handler.set_nodelay(True)\n        await super().connect()  # type",
        "        await super().connect()  # type",
        ("tests/server/test_websocket.py::test_a_gateways_kernel_websocket_has_nagle_off",),
    ),
    Mutation(
        "public: the connection file is hidden only after an answer on control",
        "src/livecells/server/public.py",
        "for channel in (client.control_channel, client.shell_channel)",
        "for channel in (client.control_channel,)",
        (
            "tests/server/test_public.py::"
            "test_a_kernel_answering_only_on_shell_has_its_connection_file_hidden_too",
        ),
    ),
    Mutation(
        "public: the hiding client shares the manager's session (and its ZMQ identity)",
        "src/livecells/server/public.py",
        "client = self.client(session=session)",
        "client = self.client()",
        (
            "tests/server/test_public.py::"
            "test_the_connection_file_is_hidden_while_another_client_of_the_manager_is_connected",
        ),
    ),
    Mutation(
        "pyodide: a page without timeoutMs waits for Pyodide without limit",
        "src/livecells/pageconfig.py",
        'timeout_ms=settings.get("timeoutMs", PYODIDE_TIMEOUT_MS),',
        'timeout_ms=settings.get("timeoutMs", 0),',
        (
            "tests/test_pageconfig.py::"
            "test_pyodide_has_120_s_per_index_url_unless_the_page_says_otherwise",
        ),
    ),
    Mutation(
        "pyodide: the boot timeout is not applied",
        "frontend/src/runtimes/pyodide/boot.ts",
        "if (!ms || ms <= 0) return promise;",
        "return promise;",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "assets: built pages may connect anywhere (connect-src back to *)",
        "src/livecells/assets.py",
        """connect = {"'self'"}\n    for url in config.pyodide.index_urls""",
        """connect = {"*"}\n    for url in config.pyodide.index_urls""",
        ("tests/test_assets.py", "tests/browser/test_csp.py"),
    ),
    Mutation(
        "assets: inline scripts may run on every page, not only trusted ones",
        "src/livecells/assets.py",
        """scripts.add("'unsafe-inline'" if config.trusted else f"'sha256-{digest}'")""",
        """scripts.add("'unsafe-inline'")""",
        ("tests/test_assets.py",),
    ),
    Mutation(
        "pageconfig: a server of the reader's own is offered without the author's leave",
        "src/livecells/pageconfig.py",
        "if not (jupyter.server or allow_reader_server):",
        "if False:",
        ("tests/test_config.py",),
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
        "notebooks: the walker compares the folders to skip by their spelling, not real path",
        "src/livecells/notebooks.py",
        "and Path(os.path.realpath(here / name)) not in skip",
        "and Path(os.path.abspath(here / name)) not in skip",
        (
            "tests/test_execute.py::test_the_output_folder_is_skipped_however_either_path_is_spelled",
        ),
    ),
    Mutation(
        "progress: livecells run on a terminal prints plain lines, no live display",
        "src/livecells/commands/progress.py",
        "    if stream.isatty():\n        return LiveProgress(",
        "    if False:\n        return LiveProgress(",
        ("tests/test_cli_run.py::test_on_a_terminal_livecells_run_shows_the_live_display",),
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
        "public: hidden, cache and build folders are served",
        "src/livecells/server/app.py",
        'return not any(part.startswith(".") or part in SKIPPED_DIRS for part in parts)',
        "return True",
        (
            "tests/server/test_public_hardening.py::test_hidden_cache_and_build_files_are_never_served",
        ),
    ),
    Mutation(
        "public: /metrics is open to visitors",
        "src/livecells/server/service.py",
        '    (r"/metrics", Closed),\n',
        "",
        ("tests/server/test_public_hardening.py::test_metrics_are_closed_to_visitors",),
    ),
    Mutation(
        "public: a visitor's kernel may start outside DIR",
        "src/livecells/server/public.py",
        "if os.path.commonpath([root, folder]) != root:",
        "if False:",
        (
            "tests/server/test_public_hardening.py::test_a_kernel_path_outside_the_folder_is_refused",
        ),
    ),
    Mutation(
        "public: an unknown kernel name answers 500",
        "src/livecells/server/public.py",
        "except NoSuchKernel:",
        "except LookupError if False else ():",
        ("tests/server/test_public_hardening.py::test_an_unknown_kernel_name_is_404",),
    ),
    Mutation(
        "public: a kernel dead for good keeps its place",
        "src/livecells/server/public.py",
        "kernel = self._kernels.get(kernel_id)\n            if kernel is None:",
        "kernel = self._kernels.get(kernel_id, True)\n            if kernel is None:",
        ("tests/server/test_public_hardening.py::test_a_kernel_dead_for_good_holds_no_place",),
    ),
    Mutation(
        "public: culling goes by what the kernel sends",
        "src/livecells/server/public.py",
        "kernel.last_activity = self._activity[kernel_id]",
        "pass",
        (
            "tests/server/test_public_hardening.py::test_a_kernel_that_prints_on_its_own_is_culled_all_the_same",
        ),
    ),
    Mutation(
        "public: the output cap counts each message on its own",
        "src/livecells/server/outputcap.py",
        'total = self.__dict__.get("_output_bytes", 0) + size',
        "total = size",
        ("tests/server/test_public_hardening.py::test_the_output_cap_counts_every_iopub_message",),
    ),
    Mutation(
        "public: limits ignore the client address",
        "src/livecells/server/public.py",
        "if limit and max(mine, here) >= limit:",
        "if limit and mine >= limit:",
        (
            "tests/server/test_public_hardening.py::test_cookie_jars_from_one_address_share_its_limit",
        ),
    ),
    Mutation(
        "public: no cap on a visitor's kernel WebSockets",
        "src/livecells/server/outputcap.py",
        "if max(self._open.get(visitor, 0), self._open.get(address, 0)) >= self.max_websockets:",
        "if False:",
        (
            "tests/server/test_public_hardening.py::test_kernel_websockets_per_visitor_and_per_address_are_capped",
        ),
    ),
    Mutation(
        "serve: a request's headers may take an hour (slowloris)",
        "src/livecells/server/app.py",
        "http.conn_params.header_timeout = self.header_timeout",
        "pass",
        (
            "tests/server/test_public_hardening.py::test_a_client_that_sends_a_request_slowly_is_cut_off",
        ),
    ),
    Mutation(
        "serve: a request's body may take for ever",
        "src/livecells/server/app.py",
        "http.conn_params.body_timeout = self.body_timeout",
        "pass",
        (
            "tests/server/test_public_hardening.py::"
            "test_a_client_that_sends_a_request_slowly_is_cut_off[body]",
        ),
    ),
    Mutation(
        "public: visitor ids reach the log",
        "src/livecells/server/public.py",
        'hashed = hashlib.sha256(visitor.encode("ascii")).hexdigest()[:32]',
        "hashed = visitor",
        ("tests/server/test_public_hardening.py::test_visitor_ids_never_reach_the_log",),
    ),
    Mutation(
        "service: a visitor lists everyone's sessions",
        "src/livecells/server/service.py",
        'return [model for model in sessions if self.owns(model["kernel"]["id"])]',
        "return sessions",
        (
            "tests/server/test_kernel_service.py::test_a_visitor_sees_and_touches_only_their_own_sessions_and_kernels",
        ),
    ),
    Mutation(
        "service: XSRF is skipped for every origin",
        "src/livecells/server/public.py",
        "        return from_allowed_origin(handler)\n",
        "        return True\n",
        ("tests/server/test_kernel_service.py::test_pages_of_other_sites_may_not",),
    ),
    Mutation(
        "run: an --output-dir over the sources overwrites them",
        "src/livecells/batch.py",
        "if os.path.realpath(output) in taken:",
        "if False:",
        ("tests/test_cli_run.py::test_an_output_dir_that_would_overwrite_sources_is_refused",),
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
    Mutation(
        "runtimes: a timed-out cell returns before its interrupt ends (the next cell is aborted)",
        "src/livecells/runtimes/base.py",
        "await asyncio.wait_for(asyncio.shield(execution.done), INTERRUPT_GRACE)",
        "pass",
        (
            "tests/runtimes/test_contract.py::"
            "test_execution_timeout_interrupts_and_keeps_the_kernel",
        ),
    ),
    Mutation(
        "render: a page that cites gets no references (its citation links lead nowhere)",
        "src/livecells/render.py",
        'if myst.citations.get("order") and not _has_node(myst.mdast, "bibliography"):',
        "if False:",
        (
            "tests/test_corpus.py::"
            "test_internal_links_resolve_to_existing_targets_with_text[mystmd-docs]",
        ),
    ),
    Mutation(
        "myst: an image mystmd could not fetch points at _myst/undefined",
        "src/livecells/myst/html.py",
        "url = remote  # a remote image",
        "url = self.links.asset(url)  # a remote image",
        ("tests/test_myst_html.py::test_an_image_mystmd_could_not_fetch_links_where_it_lives",),
    ),
    Mutation(
        "myst: a link to no page of the book stays a dead link",
        "src/livecells/myst/html.py",
        "not urlsplit(base).scheme:\n            return None",
        "not urlsplit(base).scheme:\n            return url",
        (
            "tests/test_myst_html.py::"
            "test_links_and_cards_to_no_page_of_the_book_are_text_with_a_warning",
        ),
    ),
    Mutation(
        "render: a mystnb figure cell's outputs are no figure",
        "src/livecells/render.py",
        "if cell.figure is not None:  # the caption stays",
        "if cell.figure is None:  # the caption stays",
        (
            "tests/test_myst.py::"
            "test_a_mystnb_figure_cell_shows_its_outputs_as_a_figure_with_its_caption",
        ),
    ),
    Mutation(
        "myst: a notebook's Markdown cells may include files outside the folder",
        "src/livecells/myst/project.py",
        'if suffix in (".md", ".ipynb") else ""',
        'if suffix == ".md" else ""',
        (
            "tests/test_myst.py::"
            "test_a_notebooks_markdown_cell_may_include_no_file_outside_the_folder",
        ),
    ),
    Mutation(
        "myst: a page's bibliography may lie outside the folder",
        "src/livecells/myst/project.py",
        "listed = bibliography or item",
        "listed = None",
        ("tests/test_myst.py::test_a_bibliography_outside_the_folder_is_an_error",),
    ),
    Mutation(
        "myst: the project's bibliography may lie outside the folder",
        "src/livecells/myst/project.py",
        '_check_bibliography(project.get("bibliography"), self.shadow, source)',
        "pass",
        ("tests/test_myst.py::test_a_bibliography_outside_the_folder_is_an_error",),
    ),
    Mutation(
        "serve: the warnings of a page the author fixed are kept for ever",
        "src/livecells/myst/project.py",
        "self._messages[:] = [m for m in self._messages if not m.startswith(stale)]",
        "pass",
        (
            "tests/test_site.py::"
            "test_serve_tells_a_pages_warnings_once_and_again_when_they_come_back",
        ),
    ),
    Mutation(
        "serve: a page's warnings are never printed",
        "src/livecells/server/app.py",
        "for warning in site.untold_warnings(path):",
        "for warning in []:",
        ("tests/server/test_app.py::test_a_pages_warnings_are_printed_once_when_it_is_rendered",),
    ),
    Mutation(
        "serve: a page's warnings are told at every render",
        "src/livecells/site.py",
        "return [warning for warning in current if warning not in told]",
        "return current",
        (
            "tests/test_site.py::"
            "test_serve_tells_a_pages_warnings_once_and_again_when_they_come_back",
        ),
    ),
    Mutation(
        "cli: jsonschema's format checker libraries are imported (0.8 s a run)",
        "src/livecells/cli.py",
        "sys.modules.setdefault(name, None)",
        "pass",
        ("tests/test_setup.py::test_the_command_imports_no_format_checker_library_of_jsonschema",),
    ),
    Mutation(
        "glue: a glued output shows under its cell too",
        "src/livecells/render.py",
        "shown = [output for output in cell.outputs if glued_name(output) is None]",
        "shown = list(cell.outputs)",
        ("tests/test_myst.py::test_myst_nb_glue_pastes_a_notebooks_outputs_into_its_text",),
    ),
    Mutation(
        "glue: an output glued with display=False keeps its mime prefix",
        "src/livecells/myst/glue.py",
        "found[name] = _unprefixed(output)",
        "found[name] = output",
        (
            "tests/test_myst_glue.py::"
            "test_text_is_formatted_by_its_spec_and_strings_lose_their_quotes",
        ),
    ),
    Mutation(
        "myst: a page source offered as a download is not published",
        "src/livecells/myst/project.py",
        'return not name.endswith((".md", ".ipynb")) or name in self.downloads',
        'return not name.endswith((".md", ".ipynb"))',
        (
            "tests/test_myst.py::"
            "test_a_page_offered_as_a_download_is_published_and_no_other_page_source",
        ),
    ),
    Mutation(
        "widgets: a stored widget view's model id goes into the page unchecked",
        "src/livecells/render.py",
        "return model if isinstance(model, str) and _MODEL_ID.fullmatch(model) else None",
        "return model if isinstance(model, str) else None",
        ("tests/test_widget_state.py::test_a_view_with_a_hostile_model_id_is_plain_text",),
    ),
    Mutation(
        "widgets: a saved buffer's data is not checked against its encoding",
        "frontend/src/widgetstate.ts",
        'if (typeof data !== "string" || !(encoding === "base64" ? BASE64 : HEX).test(data))',
        'if (typeof data !== "string")',
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "widgets: messages after a comm being applied are not held (an Output widget misses them)",
        "frontend/src/runtimes/base.ts",
        "this.held = [];",
        "",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "pyodide widgets: ipywidgets is fetched with what it declares (IPython and all)",
        "src/livecells/wheels.py",
        'command.insert(-1, "--no-deps")',
        "pass",
        ("tests/runtimes/test_pyodide_widgets.py::test_ipywidgets_is_fetched_without_ipython",),
    ),
    Mutation(
        "pyodide widgets: a page that imports ipywidgets gets no wheels for them",
        "src/livecells/site.py",
        'return widget_requirements(cell.source for cell in page.cells if cell.kind == "code")',
        "return []",
        (
            "tests/browser/test_pyodide_widgets.py::"
            "test_the_site_ships_ipywidgets_comm_and_traitlets_but_not_ipython",
        ),
    ),
    Mutation(
        "pyodide widgets: a buffer Python sends is the whole of the memory it is a view into",
        "frontend/src/runtimes/pyodide/comms.ts",
        "view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ?",
        "true ?",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "anywidget: allowWidgetESM does not let the page's policy import blob: modules",
        "src/livecells/assets.py",
        "    if config.allow_widget_esm:\n",
        "    if False:\n",
        (
            "tests/browser/test_widget_modules.py::"
            "test_a_built_page_with_the_option_runs_an_anywidget_under_its_policy",
        ),
    ),
    Mutation(
        "anywidget: a hook's listeners are not registered under its context (never removed)",
        "frontend/src/afm.ts",
        "on: (name, callback) => void model.on(name, callback, context),",
        "on: (name, callback) => void model.on(name, callback, {}),",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "ipympl: a caret range takes any later version (a newer ipympl's front end is assumed)",
        "frontend/src/afm.ts",
        "return low >= 0 && compare(version, upper(Math.min(index, 2))) < 0;",
        "return low >= 0;",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "charts: a plotly spec without a list of traces is handed to plotly",
        "frontend/src/charts.ts",
        "if (!Array.isArray(spec.data)) return",
        "if (false) return",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "bokeh: a show() script with other code after the plot's data is read as a plot",
        "frontend/src/bokeh.ts",
        "if (TAIL.some((line, index) => lines[HEAD.length + 3 + index] !== line))",
        "if (false)",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "bokeh: a Div's HTML reaches BokehJS uncleaned on an untrusted page",
        "frontend/src/bokeh.ts",
        'if (typeof html === "string") attributes[key] = clean(html);',
        'if (typeof html === "string") attributes[key] = html;',
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "bokeh: a saved plot's script is not handed to the client (saved plots never draw)",
        "src/livecells/bokehplots.py",
        'data-bokeh-script="{html.escape(script)}"',
        'data-bokeh-script=""',
        (
            "tests/test_bokehplots.py::test_a_shown_plot_keeps_its_script_as_an_attribute_only",
            "tests/browser/test_bokeh.py::test_a_saved_notebooks_bokeh_plot_is_drawn_before_start",
        ),
    ),
    Mutation(
        "editor help: rlcompleter's whole dotted completion is listed as is",
        "frontend/src/help.ts",
        "  if (dot >= 0) {",
        "  if (false) {",
        ("tests/test_frontend.py::test_the_client_unit_tests_pass",),
    ),
    Mutation(
        "highlight: code cells are rendered without their highlighted spans",
        "src/livecells/render.py",
        "<code>{highlight(cell.source, language)}</code>",
        "<code>{html.escape(cell.source)}</code>",
        (
            "tests/browser/test_highlight.py::"
            "test_without_javascript_the_keyword_def_is_in_a_highlighted_span",
        ),
    ),
    Mutation(
        "kernelimage: an image outlives a change of the environment (a package installed later "
        "is not seen)",
        "src/livecells/provisioners/kernelimage.py",
        "return stamp(paths) == self.stamp",
        "return True",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_a_package_installed_after_the_image_started_is_seen_by_the_next_kernel",
        ),
    ),
    Mutation(
        "kernelimage: a forked kernel outlives the process that started it",
        "src/livecells/provisioners/image.py",
        "os.killpg(child.pid, signal.SIGKILL)",
        "pass",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_a_forked_kernel_dies_with_the_process_that_started_it",
        ),
    ),
    Mutation(
        "kernelimage: a forked kernel runs in the image's folder, not in the one it was given",
        "src/livecells/provisioners/image.py",
        'os.chdir(request["cwd"])',
        "pass",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_each_forked_kernel_has_its_own_cwd_env_and_rlimits",
        ),
    ),
    Mutation(
        "sphinx served: a built page is sent without its CSP",
        "src/livecells/server/built.py",
        'self.set_header("Content-Security-Policy", page_policy(body))',
        "pass",
        ("tests/sphinx/test_browser.py::test_nbsphinx_on_furo_runs_on_the_serving_kernels",),
    ),
    Mutation(
        "sphinx served: a built page's inline scripts are not in its CSP",
        "src/livecells/sphinx/built.py",
        "sources |= {_sha256(text) for text in scripts.inline + scripts.handlers}",
        "sources |= set()",
        ("tests/sphinx/test_browser.py::test_nbsphinx_on_furo_runs_on_the_serving_kernels",),
    ),
    Mutation(
        "kernelimage: the image waits with select (dies on a control socket numbered past 1023)",
        "src/livecells/provisioners/image.py",
        "    return {fd for fd, _ in poller.poll()}",
        "    return set(select.select(fds, [], [])[0])",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_kernels_restart_again_and_again_when_descriptors_pass_1023",
        ),
    ),
    Mutation(
        "kernelimage: the manager polls a forked kernel's pidfd with select (fails past 1023)",
        "src/livecells/provisioners/kernelimage.py",
        "        return bool(poller.poll(0))",
        "        return bool(select.select([self._pidfd], [], [], 0)[0])",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_kernels_restart_again_and_again_when_descriptors_pass_1023",
        ),
    ),
    Mutation(
        "kernelimage: a released kernel's connection is closed while still watched",
        "src/livecells/provisioners/kernelimage.py",
        "collector.add_done_callback(close)",
        "conn.close()",
        (
            "tests/provisioners/test_kernelimage.py::"
            "test_a_socket_reusing_a_released_kernels_descriptor_is_still_watched",
        ),
    ),
    Mutation(
        "server runtime: the kernel WebSocket's handshake gets a request's time, not a start's",
        "src/livecells/runtimes/server.py",
        "opening = max(self.request_timeout, self.startup_timeout)",
        "opening = self.request_timeout",
        (
            "tests/runtimes/test_server.py::test_a_kernel_slower_to_answer_than_a_request_still_starts",
        ),
    ),
    Mutation(
        "serve: pages not preparing reload too once the wheels are ready (a reader loses cells)",
        "src/livecells/server/app.py",
        'preparing = self.get_argument("preparing", "") == "1" and not wheels.done.is_set()',
        "preparing = not wheels.done.is_set()",
        (
            "tests/browser/test_serve_wheels.py::"
            "test_serve_listens_while_a_pyodide_pages_wheels_resolve_and_never_resolves_binders",
        ),
    ),
    Mutation(
        "browser: a restarted kernel is ready on its shell reply, before iopub is heard",
        "frontend/src/runtimes/jupyter.ts",
        "        await Promise.race([heard, ",
        "        if (Math.random() > 2) await Promise.race([heard, ",
        (
            "tests/browser/test_runtimes.py::"
            "test_a_restarted_kernel_is_ready_only_once_its_outputs_reach_the_page",
        ),
    ),
    Mutation(
        "template: a forked kernel keeps its capabilities",
        "src/livecells/provisioners/image.py",
        "        _drop_capabilities(libc)\n",
        "        pass\n",
        (
            "tests/server/test_kernel_image.py::"
            "test_public_kernels_are_forked_each_into_a_sandbox_of_its_own[forked]",
        ),
    ),
    Mutation(
        "template: forked kernels share the template's PID namespace (they see each other)",
        "src/livecells/provisioners/image.py",
        "namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS",
        "namespaces = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS",
        ("tests/server/test_sandbox.py::test_no_other_process_is_visible[bwrap]",),
    ),
    Mutation(
        "template: forked kernels share the template's /tmp",
        "src/livecells/provisioners/image.py",
        '(box["home"], 0o700), ("/tmp", 0o1777), ("/dev/shm", 0o1777)',
        '(box["home"], 0o700), ("/dev/shm", 0o1777)',
        (
            "tests/server/test_sandbox.py::test_each_kernel_has_a_home_a_tmp_and_a_shm_of_its_own[bwrap]",
        ),
    ),
    Mutation(
        "template: a forked kernel sees every kernel's connection folder",
        "src/livecells/provisioners/image.py",
        "        _private_mounts(libc, box)\n",
        "        pass\n",
        (
            "tests/server/test_sandbox.py::"
            "test_other_visitors_kernel_sockets_and_the_server_runtime_folder_are_out_of_reach[bwrap]",
        ),
    ),
    Mutation(
        "template: a forked kernel is not charged to its cgroup",
        "src/livecells/server/sandbox.py",
        "            for folder in self.cgroup_folders or []:\n",
        "            for folder in []:\n",
        ("tests/server/test_sandbox.py::test_children_cannot_escape_the_memory_limit[bwrap]",),
    ),
    Mutation(
        "template: kernels that cannot make their sandbox keep being forked (none ever runs)",
        "src/livecells/server/sandbox.py",
        "                _FAILED_TEMPLATES.add(settings)\n",
        "                pass\n",
        (
            "tests/server/test_kernel_image.py::"
            "test_where_kernels_cannot_make_their_sandbox_they_start_cold",
        ),
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


STATIC = Path("src/livecells/static")


def _rebuild_client(copy: Path, mutation: Mutation) -> bool:
    """A break of the client that tests outside its unit tests must catch is built into the
    copy's bundle first (those tests load the built client); the bundle is put back after."""
    if not mutation.path.startswith("frontend/src/") or all(
        test.startswith("tests/test_frontend.py") for test in mutation.tests
    ):
        return False
    subprocess.run(["npm", "run", "build"], cwd=copy / "frontend", check=True, capture_output=True)
    return True


def _worker(chosen: list[Mutation], results: list[str], lock: threading.Lock) -> None:
    """Apply the breaks of ``chosen`` one by one to a copy of its own, and run their tests."""
    with tempfile.TemporaryDirectory(prefix="livecells-mutations-") as folder:
        copy = Path(folder) / "repo"
        _copy(copy)
        env = {**os.environ, "PYTHONPATH": str(copy / "src")}
        for mutation in chosen:
            target = copy / mutation.path
            original = target.read_text()
            if original.count(mutation.old) != 1:
                continue
            target.write_text(original.replace(mutation.old, mutation.new))
            began = time.monotonic()
            rebuilt = _rebuild_client(copy, mutation)
            done = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                 "--no-header", "-n", "0", *mutation.tests],
                cwd=copy, env=env, capture_output=True, text=True,
            )  # fmt: skip
            target.write_text(original)
            if rebuilt:
                shutil.rmtree(copy / STATIC)
                shutil.copytree(ROOT / STATIC, copy / STATIC)
            took = time.monotonic() - began
            if done.returncode == 1:
                line = f"killed  {mutation.name} ({took:.0f} s)"
            else:
                last = (done.stdout.strip().splitlines() or ["no output"])[-1]
                line = f"SURVIVED {mutation.name}: exit {done.returncode}, {last}"
            with lock:
                results.append(line)
                print(line, flush=True)


def run_all(only: list[str], jobs: int = 2) -> int:
    """Apply every break (or those whose name contains one of ``only``) and run its tests,
    ``jobs`` at a time, each worker in a copy of its own (``LIVECELLS_MUTATION_JOBS``)."""
    stale = check_applicable()
    for line in stale:
        print(f"stale   {line}")
    chosen = [m for m in MUTATIONS if not only or any(word in m.name for word in only)]
    results: list[str] = []
    lock = threading.Lock()
    workers = [
        threading.Thread(target=_worker, args=(chosen[index::jobs], results, lock))
        for index in range(max(1, jobs))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    killed = sum(1 for line in results if line.startswith("killed"))
    total = len(chosen)
    print(f"mutation check: {killed} of {total} breaks caught ({100 * killed / total:.0f}%)")
    print(f"mutations: {killed} passed, {total - killed} failed")
    return 0 if killed == total and not stale else 1


if __name__ == "__main__":
    sys.exit(run_all(sys.argv[1:], int(os.environ.get("LIVECELLS_MUTATION_JOBS", "2"))))
