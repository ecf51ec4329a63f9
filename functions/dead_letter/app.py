"""dead_letter function: jobs whose messages exhausted their receives end `failed`, never `running` forever."""

from functools import cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from retouch.billing.charges import JobBilling
from retouch.billing.prices import price_table
from retouch.config import dead_letter_settings
from retouch.data.jobs import JobRepository
from retouch.data.ledger import LedgerRepository
from retouch.jobs.abandoned import end_abandoned_message
from retouch.webhooks.events import Announcer
from retouch.webhooks.wiring import build_announcer

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def _jobs() -> JobRepository:
    return JobRepository(dead_letter_settings().table_name)


@cache
def _billing() -> JobBilling:
    return JobBilling(ledger=LedgerRepository(dead_letter_settings().table_name), jobs=_jobs(), prices=price_table())


@cache
def _announcer() -> Announcer:
    settings = dead_letter_settings()
    return build_announcer(settings.table_name, settings.webhooks_queue_url)


def record_handler(record: SQSRecord) -> bool:
    return end_abandoned_message(record.body, _jobs(), announce=_announcer(), billing=_billing())


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
