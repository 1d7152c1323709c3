"""Checks of plain Python arguments, with the messages the library's own calls give.

Each check names the call and the argument, says what was expected, shows what came and,
where there is one, the fix; it runs before any work is done (outside a trace, for arrays).
`warn_caller` attributes a warning to the user's line rather than to library internals.
"""

from ._checks import check_int as check_int
from ._checks import check_real as check_real
from ._checks import float_array as float_array
from ._checks import warn_caller as warn_caller
from ._schedule import check_time_power as check_time_power
from ._weight_output import as_weight_output as as_weight_output
