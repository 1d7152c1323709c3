"""Settings changed by name (`--set FIELD=VALUE`), checked against their dataclass fields.

A frozen dataclass of settings says what each field takes through its annotation (`int`,
`float`, `bool`, `str`, a `Literal[...]` of names, a tuple, `None`);
[`replace_fields`][selfguide.settings.replace_fields] changes fields by name, refuses an
unknown name with the list of valid ones and a value of the wrong kind with the field's
name and an example of a right one, before any work is done. Command lines read each value
with [`read_value`][selfguide.settings.read_value].

**Example:**

```python
from selfguide.settings import read_value, replace_fields

changes = dict(pair.split("=", 1) for pair in ["width=512", "clip_weight=false"])
budget = replace_fields("my-tool", budget, {k: read_value(v) for k, v in changes.items()})
```
"""

from ._fields import check_field as check_field
from ._fields import read_value as read_value
from ._fields import replace_fields as replace_fields
