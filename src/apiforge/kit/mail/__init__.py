"""Mail: messages rendered from a service's templates (plain text and HTML) and sent over SMTP
by a job, with a development sink that logs instead of delivering. Not for: deciding when to
send (a job enqueued after the commit does)."""

from apiforge.kit.mail.mailer import Mailer, MailError
from apiforge.kit.mail.resource import mail_resource
from apiforge.kit.mail.sink import MailSink
from apiforge.kit.mail.templates import MailTemplates

__all__ = ["MailError", "MailSink", "MailTemplates", "Mailer", "mail_resource"]
