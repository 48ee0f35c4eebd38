"""POST data for a Django admin change form, as the browser would send it unchanged."""


def _put(data, key, value):
    if value is None:
        return
    if isinstance(value, bool):
        if value:
            data[key] = "on"
        return
    if isinstance(value, list | tuple):
        data[key] = [str(v) for v in value]
        return
    data[key] = str(value)


def admin_form_data(response) -> dict:
    assert response.status_code == 200, response.status_code
    data = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if not field.disabled:
            _put(data, form.add_prefix(name), form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = str(
                formset.management_form[name].value()
            )
        for row in formset.forms:
            for name, field in row.fields.items():
                if not field.disabled:
                    _put(data, row.add_prefix(name), row[name].value())
    return data
