"""The probe agent: runs the checks assigned to its location and sends the results to the
server (``infradex agent``)."""
