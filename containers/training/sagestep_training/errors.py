"""The one exception type whose message is meant for the person who submitted the job."""


class UserError(Exception):
    """A problem with the job's input (data, hyperparameters or request) that the user has to fix.

    Its message is written verbatim to ``output/failure`` (SageMaker's ``FailureReason``), so it names the
    offending column, value or hyperparameter and says what was expected.
    """


class TrainingDiverged(UserError):
    """The loss became NaN or infinite: the job fails, but an HPO trial that diverges only fails itself."""
