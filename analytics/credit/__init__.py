"""Credit customers ("fiado"): each customer's history (ledger, FIFO ageing, days-to-repay,
repayment rhythm, purchase pattern, use of the limit), a transparent credit-risk scorecard, the
collections priority list, predicted payment dates, collection messages (templates, or an LLM
with pseudonymised customers) and the reminders the device dashboard shows.  docs/credit.md.

Modules: ``data`` (reading the hub database), ``history``, ``risk``, ``payment_date``,
``collections``, ``report`` (all of it for one store), ``templates``, ``messages``, ``reminders``;
``sending/`` sends the reminders the owner picks (e-mail, SMS, WhatsApp plug-ins, contacts and consent,
every send recorded).
"""

from analytics.credit.reminders import device_reminders
from analytics.credit.report import CreditReport, credit_report

__all__ = ["CreditReport", "credit_report", "device_reminders"]
