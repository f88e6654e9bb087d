# SPDX-License-Identifier: GPL-3.0-or-later
#
# torchrun.py: `torchrun` (torch.distributed.run) for Debian 12, whose PyTorch 1.13 on
# Python 3.11 fails before starting any worker: Std.from_str("0") iterates the IntFlag Std,
# and Python 3.11 no longer yields its zero member NONE, so the default --redirects/--tee
# become None ("'NoneType' object has no attribute 'get'"). This wrapper maps the values
# through Std(int) instead and then runs torchrun unchanged, with the same arguments:
#   /usr/bin/python3 tools/pretrain/torchrun.py --standalone --nproc_per_node 2 \
#       tools/pretrain/train.py ...
# Elsewhere (a cluster's own PyTorch) use its torchrun.
import re
import sys

from torch.distributed.elastic.multiprocessing import api
from torch.distributed import run

_from_str = api.Std.from_str


def _std_from_str(vm):
    if re.match(r"^\d$", vm):
        return api.Std(int(vm))
    if re.match(r"^(\d:\d,)*(\d:\d)$", vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    return _from_str(vm)


api.Std.from_str = staticmethod(_std_from_str)

if __name__ == "__main__":
    sys.exit(run.main())
