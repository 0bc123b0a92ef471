"""axe-core for the browser tests: installed by the test with npm into artifacts/node/ (kept
out of git, never served by the app: decision 45) and injected into the page under test.

`audit(page)` runs axe on the page as it is and returns its serious and critical violations,
one line each, for the assertion message to name."""

import json
import shutil
import subprocess
from functools import cache
from typing import Any

from tests.e2e.servers import ARTIFACTS

AXE_VERSION = "4.10.3"
NODE_PREFIX = ARTIFACTS / "node"
AXE_JS = NODE_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = {"serious", "critical"}


def _installed_version() -> str | None:
    package = AXE_JS.parent / "package.json"
    if not AXE_JS.exists() or not package.exists():
        return None
    return str(json.loads(package.read_text())["version"])


@cache
def axe_source() -> str:
    """The text of axe.min.js, installing the pinned axe-core first if it is missing."""
    if _installed_version() != AXE_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed (.ci/run installs it)")
        NODE_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX),
             f"axe-core@{AXE_VERSION}"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return AXE_JS.read_text()


def audit(page: Any) -> list[str]:
    """Serious and critical violations of the page as it stands, as readable lines."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # add_script_tag(content=…) goes through the DevTools protocol, outside the page's CSP.
        page.add_script_tag(content=axe_source())
    results = page.evaluate(
        "async () => { const r = await axe.run(document, { resultTypes: ['violations'] });"
        " return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': '"
        " + (n.failureSummary || '').split('\\n').slice(1, 2).join('')) })); }"
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): " + " | ".join(v["nodes"])
        for v in results
        if v["impact"] in SEVERE
    ]
