"""Orders and evidence for rectification tests."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from civilaffairs.files import attachment_store
from rectification import services


def png_bytes(size=(8, 8), colour="red"):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def evidence(user, name="整改后.png"):
    """A photo ``user`` uploaded and has not attached to anything yet."""
    return attachment_store(actor=user, upload=SimpleUploadedFile(name, png_bytes()))


def issue(city, **kw):
    kw.setdefault("working_days", 10)
    kw.setdefault("title", "疏散通道堵塞")
    kw.setdefault("responsible_unit", city.inst_a)
    kw.setdefault("supervising_department", city.dept_relief)
    return services.rectification_issue(actor=kw.pop("actor", city["supervisor"]), **kw)


def step(order, actor, action, **kw):
    """One transition with what the step needs (a note, evidence) filled in."""
    definition = services.STEPS[action]
    if definition.needs_note:
        kw.setdefault("note", "说明")
    if definition.needs_evidence:
        kw.setdefault("attachments", [evidence(actor)])
    return services.rectification_transition(rectification=order, actor=actor, action=action, **kw)
