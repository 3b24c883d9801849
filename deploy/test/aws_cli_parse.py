"""Feed `aws ...` lines on stdin through the AWS CLI's own argument parsing, all in one process.

Each call is sent to a closed loopback port, so a well-formed call fails only to connect; a call the CLI
rejects (unknown option, bad shorthand, parameter validation) is printed as BAD. Needs the Python AWS CLI.
"""
import contextlib
import io
import shlex
import sys

from awscli.clidriver import create_clidriver

REJECTED = ("usage:", "Unknown options", "validation failed", "Invalid", "Error parsing", "must specify")

DRIVER = create_clidriver()  # one driver for all calls: loading the service models is the slow part
bad = 0
for line in sys.stdin:
    if not line.startswith("aws "):
        continue
    args = shlex.split(line)[1:] + ["--endpoint-url", "http://127.0.0.1:9"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            DRIVER.main(args)
        except SystemExit:
            pass
    message = err.getvalue()
    if any(word in message for word in REJECTED):
        bad += 1
        print(f"BAD {line.strip()}\n  -> {message.strip()[-300:]}")
sys.exit(1 if bad else 0)
