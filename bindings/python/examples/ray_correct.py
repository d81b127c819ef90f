"""Correct a text corpus with Ray Data, a line at a time.

One `typofix.Corrector` per worker (an actor, made once and kept), fed
batches of lines through `fix_batch`. Locally:

    python ray_correct.py corpus.txt out/ --workers 2

On a cluster the same script runs unchanged: start Ray there (`ray start
--head`, or a KubeRay cluster), install the typofix wheel on every node
(or pass it in `runtime_env`), put the corpus where all nodes can read it
(s3://, gs://, hdfs:// or a shared path) and run the script on the head
node, or with `ray job submit -- python ray_correct.py ...`. See
docs/PYTHON.md.
"""

import argparse
import json
import os
import time

import ray

import typofix


class Fix:
    """A worker: one corrector, loaded once, for every batch it is given."""

    def __init__(self, threads: int):
        # The model's thread pools read this when they start; one worker
        # gets the CPUs Ray reserved for it, so workers do not oversubscribe.
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        self.corrector = typofix.Corrector()

    def __call__(self, batch: dict) -> dict:
        fixes = self.corrector.fix_batch([str(line) for line in batch["text"]])
        return {
            "text": [f.text for f in fixes],
            "edits": [
                json.dumps([[e.start, e.end, e.replacement, e.kind] for e in f.edits])
                for f in fixes
            ],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", help="a text file (or directory, or s3:// URI) of lines")
    parser.add_argument("out", help="where to write the corrected lines, as Parquet")
    parser.add_argument("--workers", type=int, default=2, help="correctors (actors)")
    parser.add_argument("--cpus-per-worker", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256, help="lines per fix_batch")
    args = parser.parse_args()

    ray.init(
        # Local mode on this machine; on a cluster, ray.init() finds it.
        address=os.environ.get("RAY_ADDRESS"),
        include_dashboard=False,
        log_to_driver=False,
    )
    # Reading and writing are mostly I/O: they reserve no CPU, so that
    # workers holding every CPU (2 workers on 2 cores) do not starve them.
    io = {"num_cpus": 0}
    lines = ray.data.read_text(args.corpus, ray_remote_args=io)
    fixed = lines.map_batches(
        Fix,
        fn_constructor_kwargs={"threads": args.cpus_per_worker},
        compute=ray.data.ActorPoolStrategy(size=args.workers),
        num_cpus=args.cpus_per_worker,
        batch_size=args.batch_size,
    )
    start = time.monotonic()
    fixed.write_parquet(args.out, ray_remote_args=io)
    seconds = time.monotonic() - start
    count = ray.data.read_parquet(args.out).count()
    print(
        json.dumps(
            {
                "lines": count,
                "workers": args.workers,
                "seconds": round(seconds, 1),
                "lines_per_second": round(count / seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
