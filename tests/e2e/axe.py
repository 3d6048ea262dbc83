"""axe-core in a Playwright page: the accessibility checks browser tests share.

axe comes from the axe-playwright-python package (its bundled ``axe.min.js``), injected into the
page as a script: nothing is fetched from the network.
"""

from importlib.resources import files

# What a test refuses: the violations axe rates as blocking people, not the minor ones.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def axe_script_path() -> str:
    return str(files("axe_playwright_python") / "axe.min.js")


def serious_violations(page, within: str | None = None) -> list:
    """axe's serious and critical violations on the page as it is now, or in the part of it
    the CSS selector ``within`` names (each a dict with its ``id``, ``impact``, ``help`` and
    ``nodes``); empty when there are none."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=axe_script_path())
    violations = page.evaluate(
        "async (within) => (await axe.run(within || document)).violations", within
    )
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


def violations_text(violations: list) -> str:
    """The violations as lines a failing test can print: rule, impact, and where."""
    return "\n".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:5])
        for violation in violations
    )
