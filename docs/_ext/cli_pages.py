"""Sphinx extension: one page per command of ``mlem-neuro``, generated from its parser.

The flags, their defaults and their help come from the argument parsers at build time,
so the pages never drift from the program.
"""

import argparse
from pathlib import Path

from mlem_neuro.cli import build_parser

FOLDER = "generated_cli"


def _commands():
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            return [(name, sub, helps.get(name, "")) for name, sub in action.choices.items()]
    return []


def _cell(text):
    """Table-cell text: pipes escaped, angle brackets as entities (not HTML tags)."""
    text = str(text).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _page(name, parser, summary):
    lines = [f"# `mlem-neuro {name}`", "", summary[:1].upper() + summary[1:] + ".", "", "```text"]
    lines += [parser.format_usage().strip(), "```", ""]
    lines += ["| argument | default | help |", "|---|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        flags = ", ".join(f"`{flag}`" for flag in action.option_strings) or f"`{action.dest}`"
        default = "" if action.default in (None, argparse.SUPPRESS) else f"`{action.default}`"
        if action.choices and not isinstance(action.choices, range):
            flags += " (" + ", ".join(f"`{choice}`" for choice in action.choices) + ")"
        lines.append(f"| {_cell(flags)} | {_cell(default)} | {_cell(action.help or '')} |")
    return "\n".join(lines) + "\n"


def write_pages(app, config=None):
    """Write generated_cli/<command>.md and their index into the source folder."""
    folder = Path(app.srcdir) / FOLDER
    folder.mkdir(exist_ok=True)
    commands = _commands()
    index = ["# Command-line reference", "", "Generated from the program's own parsers.", ""]
    index += ["```{toctree}", ":maxdepth: 1", ""] + [name for name, _, _ in commands] + ["```"]
    pages = {"index": "\n".join(index) + "\n"}
    pages.update({name: _page(name, parser, summary) for name, parser, summary in commands})
    for name, text in pages.items():
        path = folder / f"{name}.md"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app):
    """Register the page writer."""
    app.connect("config-inited", write_pages)
    return {"parallel_read_safe": True, "version": "1"}
