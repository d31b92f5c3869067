"""The batch job's errors. Each carries the exit status the CLI returns; its message is the one line it prints."""

from spam_service.errors import SpamServiceError


class BatchError(SpamServiceError):
    """The job cannot go on (Spark failed, a write or rename failed): exit status 1."""

    exit_code = 1


class BatchUsageError(BatchError):
    """The command line names something that is not there or not usable (input path, column, an output that
    exists already): exit status 2, as argparse gives for a bad option."""

    exit_code = 2
