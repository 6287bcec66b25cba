"""``retrouve eval``: measure search quality on a labelled dataset.

Without ``--data-dir`` the run uses a temporary data directory, removed afterwards.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from retrouve.cli.analyse import print_analysis
from retrouve.cli.io import acting, console, emit, err, open_services, progress_bar


@click.command("eval")
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Query file [default: queries.jsonl beside DATASET].")
@click.option("--hits-json", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every query's hits here.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.pass_context
def eval_(ctx: click.Context, dataset: Path, queries: Path | None, hits_json: Path | None,
          as_json: bool) -> None:
    """Measure search quality on a labelled dataset (see shared/eval/README.md).

    Uses --data-dir when given (analysis is then resumed/reused), else a temporary one.
    """
    from retrouve.evaluation.runner import run_eval
    from retrouve.evaluation.scoring import duplicate_hits, format_table

    tmp = None
    if ctx.obj.get("data_dir") is None:
        tmp = tempfile.TemporaryDirectory(prefix="retrouve-eval-")
        ctx.obj["data_dir"] = Path(tmp.name)
    try:
        # The evaluation ingests its dataset: it may create the data folder it is given.
        with open_services(ctx, create=True) as svc, progress_bar(not as_json) as bar:
            outcome = run_eval(svc, dataset, queries, progress=bar,
                               on_stage=None if as_json else lambda m: err.print(m),
                               actor=acting(ctx, svc))
    finally:
        if tmp is not None:
            tmp.cleanup()
    if hits_json:
        hits_json.write_text(json.dumps(outcome.hits_document(), indent=1))

    def text() -> None:
        if outcome.analysis:
            print_analysis(outcome.analysis)
        console.print(format_table(outcome.summaries), highlight=False)
        repeated, queries_with = duplicate_hits(outcome.scores)
        console.print(f"repeated objects: {repeated} hits in the top 10 show a labelled object "
                      f"an earlier hit already showed ({queries_with} queries)")
        acc = outcome.plate_accuracy
        if acc.cases and acc.exact_rate is not None and acc.cer is not None:
            console.print(f"plate reading: {acc.cases} labelled plates, {acc.with_read} with a "
                          f"read nearby, exact {acc.exact_rate:.3f}, CER {acc.cer:.3f}")
        if outcome.unsupported:
            unsupported = outcome.unsupported_summary()
            console.print(f"unsupported (not scored): {unsupported.queries} queries "
                          f"{unsupported.by_category}, keys {unsupported.keys}", highlight=False)

    emit(as_json, outcome.to_json(), text)
