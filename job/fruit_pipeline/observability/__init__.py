"""Progress, timings, run summary and metrics."""
