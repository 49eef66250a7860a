"""The fault-tolerance run's parts (bench/fault_run.py): throwaway services, the database proxy,
the Ringtrail processes, the senders and the checks."""
