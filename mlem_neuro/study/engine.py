"""Dask distributed as the study's engine: a local cluster, a running one, or a job queue.

Tasks are plain functions of picklable arguments (:mod:`.participant`); the
engine submits them, follows them with one progress display, and reports each
failure without stopping the others. A worker that dies mid-task has its task
rescheduled by Dask on another worker, where it resumes from its checkpoint.
"""

import dataclasses
import logging
import os
from pathlib import Path

from tqdm.auto import tqdm

__all__ = ["Engine", "TaskOutcome", "cluster_from_config"]

logger = logging.getLogger("mlem_neuro")

SLOT = "mlem_neuro_task"


@dataclasses.dataclass
class TaskOutcome:
    """How one task ended: its result, or its error."""

    key: str
    result: object = None
    error: str | None = None


def cluster_from_config(path):
    """A dask-jobqueue cluster described by a YAML file.

    The file names the cluster class, how many jobs to start, and the class's
    keyword arguments, for example one GPU per SLURM job::

        cluster: SLURMCluster
        jobs: 4
        options:
          cores: 8
          memory: 32GB
          walltime: "04:00:00"
          job_extra_directives: ["--gres=gpu:1"]

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dask_jobqueue.JobQueueCluster
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--cluster-config {path} not found.")
    config = yaml.safe_load(path.read_text()) or {}
    try:
        import dask_jobqueue
    except ImportError as error:
        raise ImportError(
            "--cluster-config needs dask-jobqueue: pip install 'mlem_neuro[cluster]'."
        ) from error
    name = config.get("cluster", "SLURMCluster")
    if not hasattr(dask_jobqueue, name):
        raise ValueError(
            f"--cluster-config {path}: unknown cluster {name!r}; dask-jobqueue has "
            f"{sorted(n for n in dir(dask_jobqueue) if n.endswith('Cluster'))}."
        )
    options = dict(config.get("options", {}))
    # Each worker takes one task at a time (see Engine); its threads all go to torch.
    options["worker_extra_args"] = [
        *options.get("worker_extra_args", []),
        "--resources",
        f"{SLOT}=1",
    ]
    cluster = getattr(dask_jobqueue, name)(**options)
    cluster.scale(jobs=int(config.get("jobs", 1)))
    return cluster


#: The dashboard of a local cluster: this machine only, any free port (studies side by side).
LOOPBACK = "127.0.0.1:0"


class Engine:
    """A Dask client and, when it started one, its cluster.

    Parameters
    ----------
    workers : int, optional
        Worker processes of a local cluster (default: one per 2 cores, or
        one per GPU).
    scheduler : str, optional
        Address of a running Dask scheduler.
    cluster_config : str or Path, optional
        A dask-jobqueue cluster (see :func:`cluster_from_config`).
    dashboard_address : str
        Where a local cluster serves its dashboard (with bokeh installed):
        the loopback interface by default, so that on a shared login node
        nobody else can watch the study; "0.0.0.0:8787" opens it on purpose.
    """

    def __init__(
        self, workers=None, scheduler=None, cluster_config=None, dashboard_address=LOOPBACK
    ):
        from dask.distributed import Client

        chosen = [option for option in (workers, scheduler, cluster_config) if option is not None]
        if len(chosen) > 1:
            raise ValueError("give one of --workers, --scheduler and --cluster-config.")
        self.cluster = None
        # One task at a time per worker, with all the worker's cores for torch: Dask threads
        # running tasks side by side would only fight over the same cores.
        self.torch_threads, self.resources = None, None
        if scheduler is not None:
            self.client = Client(scheduler)
        elif cluster_config is not None:
            self.cluster = cluster_from_config(cluster_config)
            self.client = Client(self.cluster)
            self.resources = {SLOT: 1}
        else:
            workers = workers or _default_workers()
            self.cluster = _local_cluster(workers, dashboard_address)
            self.client = Client(self.cluster)
            self.torch_threads = max(1, (os.cpu_count() or 1) // workers)

    @property
    def dashboard(self):
        """The address of the Dask dashboard, or None (it needs the bokeh package)."""
        if not _has_bokeh():
            return None
        try:
            return self.client.dashboard_link
        except (AttributeError, KeyError):
            return None

    def submit(self, function, *args, key):
        """Run ``function(*args)`` on a worker (futures among ``args`` are awaited first)."""
        return self.client.submit(
            _on_worker,
            function,
            self.torch_threads,
            *args,
            key=key,
            pure=False,
            resources=self.resources,
        )

    def follow(self, futures, description, verbose=True):
        """Wait for futures, with one progress display; failures do not stop the others.

        Parameters
        ----------
        futures : dict of str to Future
        description : str
        verbose : bool

        Returns
        -------
        dict of str to TaskOutcome
        """
        from dask.distributed import as_completed

        outcomes = {}
        keys = {future.key: name for name, future in futures.items()}
        with tqdm(total=len(futures), desc=description, disable=not verbose) as progress:
            for future in as_completed(list(futures.values())):
                name = keys[future.key]
                if future.status == "error":
                    error = future.exception()
                    outcomes[name] = TaskOutcome(name, error=f"{type(error).__name__}: {error}")
                else:
                    outcomes[name] = TaskOutcome(name, result=future.result())
                failed = sum(outcome.error is not None for outcome in outcomes.values())
                progress.set_postfix_str(f"{failed} failed", refresh=False)
                progress.update()
        return outcomes

    def close(self):
        """Close the client and the cluster it started."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()
        return False


def _default_workers():
    return max(1, _gpu_count() or (os.cpu_count() or 1) // 2)


def _local_cluster(workers, dashboard_address):
    import dask
    from dask.distributed import LocalCluster

    # Dask starts workers for many small tasks: one BLAS/OpenMP thread each, and glibc
    # returning freed memory to the system above 64 KiB, which makes the many tensors a fit
    # allocates 2-3 times slower. Ours are few, large tasks: each worker gets its share of
    # the cores, and the default allocator.
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environ.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    environ["MALLOC_TRIM_THRESHOLD_"] = None
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=dashboard_address,
            silence_logs=logging.ERROR,
        )


def _gpu_count():
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _has_bokeh():
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _on_worker(function, torch_threads, *args):
    """Run a task with the worker's share of the cores and its own GPU."""
    import torch
    from dask.distributed import get_worker

    worker = get_worker()
    torch.set_num_threads(torch_threads or max(1, worker.state.nthreads))
    args = [_worker_device(arg, worker) for arg in args]
    return function(*args)


def _worker_device(argument, worker):
    """A study config whose device "cuda" becomes this worker's GPU on a multi-GPU machine."""
    options = getattr(argument, "options", None)
    gpus = _gpu_count()
    if options is None or options.device != "cuda" or gpus < 2:
        return argument
    index = int(worker.name) % gpus if str(worker.name).isdigit() else 0
    return dataclasses.replace(
        argument, options=dataclasses.replace(options, device=f"cuda:{index}")
    )
