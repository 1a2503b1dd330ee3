"""The tenant portal: a browser interface over `/api/v1`, served by the API process under `/portal`."""
