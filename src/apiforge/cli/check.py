"""`apiforge check`: prints the production-readiness findings as a table, the connection
arithmetic among them, and exits 1 when any finding is an error."""

import asyncio
import shutil
import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from apiforge.cli.service import DEFAULT_APP, AppOption, ServiceLoadError, load_app

if TYPE_CHECKING:
    from apiforge.kit import Finding

_SEVERITY_WIDTH = 10
_TOPIC_WIDTH = 13


def check(
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker processes per pod.", show_default="server.workers"
        ),
    ] = None,
    pods: Annotated[
        int,
        typer.Option(
            min=1, help="Pods at most, counting a rolling update's surge (HPA max + surge)."
        ),
    ] = 1,
    headroom: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Connections kept free for migrations, admins and monitoring.",
            show_default="5",
        ),
    ] = None,
    app: AppOption = DEFAULT_APP,
) -> None:
    """Check the service's configuration (and the database's connection limit) for
    production."""
    findings = asyncio.run(_findings(app, workers, pods, headroom))
    typer.echo(render(findings))
    if any(finding.severity == "error" for finding in findings):
        raise typer.Exit(1)


async def _findings(
    app: str, workers: int | None, pods: int, headroom: int | None
) -> list["Finding"]:
    from apiforge.kit import Deployment, Finding, Severity, app_config, production_findings

    try:
        settings = app_config(load_app(app)).settings
    except ServiceLoadError as exc:
        # `serve` prints this refusal and exits 2; here it is the only finding, since nothing
        # else can be judged without valid settings.
        return [Finding(Severity.ERROR, "settings", f"refused: {exc}")]
    workers = workers or settings.server.workers
    deployment = (
        Deployment(workers=workers, pods=pods)
        if headroom is None
        else Deployment(workers=workers, pods=pods, headroom=headroom)
    )
    return await production_findings(settings, deployment)


def render(findings: list["Finding"]) -> str:
    from apiforge.kit import Severity

    width = max(60, min(shutil.get_terminal_size().columns, 120))
    indent = " " * (_SEVERITY_WIDTH + _TOPIC_WIDTH)
    lines = [f"{'SEVERITY':<{_SEVERITY_WIDTH}}{'CHECK':<{_TOPIC_WIDTH}}FINDING"]
    for finding in findings:
        first = f"{finding.severity.value:<{_SEVERITY_WIDTH}}{finding.topic:<{_TOPIC_WIDTH}}"
        lines.extend(
            textwrap.wrap(
                finding.message,
                width=width,
                initial_indent=first,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
        )
    counts = {severity: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity] += 1
    lines.append("")
    lines.append(
        f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
        f"{counts[Severity.OK]} ok"
    )
    return "\n".join(lines)
