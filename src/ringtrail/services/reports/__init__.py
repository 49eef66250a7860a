"""Reports: call, lead and visit counts for a period (`engine`) and the report catalogue."""
