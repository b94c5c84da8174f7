"""What a check found, and the report of all of them (`casebot doctor`).

Below both the CLI (`bot.doctor`) and the checks of the Matrix side (`bot.matrix.inspect`),
so that neither depends on the other's module.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Level = Literal["ok", "warning", "error"]


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def ok(self, check: str, message: str) -> None:
        self.findings.append(Finding(check, "ok", message))

    def warning(self, check: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(check, "warning", message, fix))

    def error(self, check: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(check, "error", message, fix))

    @property
    def failed(self) -> bool:
        return any(f.level == "error" for f in self.findings)

    def text(self) -> str:
        marks = {"ok": "ok     ", "warning": "WARNING", "error": "ERROR  "}
        lines = []
        for f in self.findings:
            lines.append(f"{marks[f.level]} {f.check}: {f.message}")
            if f.fix:
                lines.append(f"        → {f.fix}")
        errors = sum(f.level == "error" for f in self.findings)
        warnings = sum(f.level == "warning" for f in self.findings)
        lines.append(f"{errors} error(s), {warnings} warning(s)"
                     + (": the bot cannot work until the errors are fixed" if errors else ""))
        return "\n".join(lines) + "\n"

    def json(self) -> str:
        return json.dumps({"ok": not self.failed,
                           "findings": [asdict(f) for f in self.findings]}, indent=2) + "\n"
