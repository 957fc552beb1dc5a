"""Running a judge: the jobs a run asks for, generation through a backend, the run folder (lock, manifest,
reuse, checks) and the executors that spread requests over engines."""
