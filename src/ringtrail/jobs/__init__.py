"""Background jobs: work whose queue is a table. `recording_fetch` downloads provider audio
with retries, `retention` deletes audio past its project's retention period, and `runner`
runs them: one pass (`run_due_jobs`), a loop (`ringtrail worker`) or a thread inside `serve`.
"""
