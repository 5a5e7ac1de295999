"""Run a few cells on your local Python kernel with livecells and show what comes back.

python examples/quickstart.py [KERNEL_NAME]
"""

from __future__ import annotations

import asyncio
import sys

import livecells

CELLS = [
    "import sys, platform\nprint('Python', platform.python_version(), 'on', sys.platform)",
    "from IPython.display import display, Markdown\n"
    "handle = display(Markdown('*counting...*'), display_id='progress')",
    "import time\nfor i in range(3):\n    print('step', i, flush=True)\n    time.sleep(0.3)",
    "handle.update(Markdown('**done**'))\nsum(range(10))",
    "1 / 0",
]


def show(output: dict[str, object]) -> None:
    kind = output["output_type"]
    if kind == "stream":
        print(f"  [{output['name']}] {str(output['text']).rstrip()}")
    elif kind == "error":
        print(f"  [error] {output['ename']}: {output['evalue']}")
    elif kind in ("display_data", "execute_result"):
        data = output["data"]
        assert isinstance(data, dict)
        print(f"  [{kind}] {data.get('text/markdown') or data.get('text/plain')}")


async def main(kernel_name: str) -> int:
    def report(status: livecells.Status, detail: str) -> None:
        if status in (livecells.Status.STARTING, livecells.Status.READY):
            print(f"kernel {status}: {detail}")

    async with livecells.connect("local", kernel_name=kernel_name, on_status=report) as kernel:
        results = []
        for index, code in enumerate(CELLS):
            print(f"In [{index}]: {code.splitlines()[0]}")
            stream = kernel.stream(code)
            async for output in stream:  # outputs print as they arrive
                show(output)
            assert stream.result is not None
            results.append(stream.result)
        first_display = results[1].outputs[0]["data"]["text/markdown"]
        print(f"the display shown by cell 1 now reads: {first_display}")
    failed = [i for i, result in enumerate(results) if result.status != "ok"]
    print(f"{len(CELLS)} cells run, {len(failed)} raised (cell {failed[0]}, as intended)")
    return 0 if failed == [len(CELLS) - 1] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "python3")))
