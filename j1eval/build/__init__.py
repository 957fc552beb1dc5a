"""Builders of benchmarks that were never released: ``python -m j1eval build NAME``.

``followbencheval`` (EvalPlanner's FollowBenchEval) is rebuilt from FollowBench's
instructions: responses from one generator model, each constraint checked by a rule
where code can decide and by a checker model otherwise, one pair per instruction
(:mod:`j1eval.build.followbench`). Generation runs on j1eval's backends and store, so
a build is resumable like ``run``.
"""
