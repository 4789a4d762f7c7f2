"""One progress display for a whole fit: folds, units done, steps, time left."""

from tqdm.auto import tqdm

__all__ = ["FitProgress"]


class FitProgress:
    """A single bar over every (unit, fold, stimulus order) a fit goes through.

    Parameters
    ----------
    n_units, n_folds, n_orders : int
        Units, folds and orders of the stimuli (1 + permutations).
    enabled : bool
    """

    def __init__(self, n_units, n_folds, n_orders, enabled):
        self.n_folds = n_folds
        self.title = f"Fitting {n_units:,} unit{'s' if n_units > 1 else ''}"
        self.bar = tqdm(
            total=n_units * n_folds * n_orders,
            desc=self.title,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]",
            disable=not enabled,
            leave=False,
            dynamic_ncols=True,
        )

    def start_fold(self, fold):
        """A fold of a chunk starts."""
        if self.n_folds > 1:
            self.bar.set_description_str(
                f"{self.title}, fold {fold + 1}/{self.n_folds}", refresh=False
            )

    def step(self, n_steps, n_active):
        """Training of the current fold ran ``n_steps``; ``n_active`` units still improve."""
        self.bar.set_postfix_str(f"step {n_steps}, {n_active:,} improving", refresh=False)

    def advance(self, n_fits):
        """``n_fits`` (unit, fold, order) fits are done."""
        self.bar.update(n_fits)

    def close(self):
        """Remove the bar."""
        self.bar.close()
