"""Peak resident memory of a block of code, for the benchmarks (Linux)."""

import resource
import threading


def resident_mib():
    """Current resident set size of this process (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class PeakMemory:
    """Track the peak resident set size above the size at entry."""

    def __enter__(self):
        self.baseline = self.peak = resident_mib()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.005):
            self.peak = max(self.peak, resident_mib())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.extra_mib = self.peak - self.baseline
