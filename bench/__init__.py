"""casebot's benchmarks (issue #8): latency, burst, scale against a minimal nio echo bot on a
throwaway Synapse, the in-process throughput and the database growth. `python -m bench -h`."""
