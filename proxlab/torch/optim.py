"""All torch optimizers of proxlab in one namespace (each defined in its family module).

=====================  ===============================================  ================================
class                  Numba reference (``proxlab.solvers.get(name)``)  paper
=====================  ===============================================  ================================
``ProxGen``            ``proxgen``                                      proxgen.txt Alg. 1, eq (2)
``ProxQuant``          ``proxquant``                                    proxgen.txt Table 2 (top)
``RevisedProxQuant``   ``revised_proxquant``                            proxgen.txt Table 2 (bottom)
``ProxSGD``            ``prox_sgd`` (``gamma = 1/lr``)                  mrda.txt eqs (8)-(9)
``SqrtTProxSGD``       ``sqrt_t_prox_sgd`` (``gamma = 1/lr``)           mrda.txt eqs (23)-(25)
``ProxSGDYang``        ``prox_sgd_yang``                                proxgen.txt eqs (5)-(6)
``RDA``                ``rda`` (``gamma = 1/lr``)                       mrda.txt Alg. 1
``MRDA``               ``mrda`` (``gamma = 1/lr``)                      mrda.txt Alg. 2
``GroupSGD`` ...       ``group_sgd``, ``group_momentum``,               GA Alg. 1-3, Table 1
``GroupAdaHessian``    ``group_adagrad``, ``group_adam``,
                       ``group_amsgrad``, ``group_adahessian``
``FTRL``               ``ftrl``                                         McMahan et al. 2013, Alg. 1
``RAMDA``              ``ramda``                                        ramda.txt Alg. 1, eqs (2)-(5)
``RMDA``               ``rmda``                                         ramda.txt Sec 2 (Huang & Lee 2022)
``MADGRAD``            ``madgrad``                                      Defazio & Jelassi 2022, Alg. 1
``ProxSSI``            ``proxssi`` (``beta1, beta2 = betas``)           Deleu & Bengio 2021
=====================  ===============================================  ================================
"""

from ._base import ProxOptimizer
from .ftrl import FTRL
from .group_family import GroupAdaHessian, GroupAdagrad, GroupAdam, GroupAMSGrad, GroupMomentum, GroupSGD
from .layout import param_groups
from .madgrad import MADGRAD
from .proxssi import ProxSSI
from .ramda import RAMDA
from .rmda import RMDA
from .prox_sgd import ProxSGD, ProxSGDYang, SqrtTProxSGD
from .proxgen import ProxGen, ProxQuant, RevisedProxQuant
from .rda import MRDA, RDA

__all__ = ["ProxOptimizer", "ProxGen", "ProxQuant", "RevisedProxQuant", "ProxSGD", "SqrtTProxSGD", "ProxSGDYang",
           "RDA", "MRDA", "GroupSGD", "GroupMomentum", "GroupAdagrad", "GroupAdam", "GroupAMSGrad",
           "GroupAdaHessian", "FTRL", "param_groups"]
__all__ += ["RAMDA", "RMDA", "MADGRAD", "ProxSSI"]

#: torch class -> (registry name of the Numba reference, how its hyperparameters map)
REFERENCES = {
    "ProxGen": "proxgen", "ProxQuant": "proxquant", "RevisedProxQuant": "revised_proxquant",
    "ProxSGD": "prox_sgd", "SqrtTProxSGD": "sqrt_t_prox_sgd", "ProxSGDYang": "prox_sgd_yang",
    "RDA": "rda", "MRDA": "mrda", "GroupSGD": "group_sgd", "GroupMomentum": "group_momentum",
    "GroupAdagrad": "group_adagrad", "GroupAdam": "group_adam", "GroupAMSGrad": "group_amsgrad",
    "GroupAdaHessian": "group_adahessian", "FTRL": "ftrl",
}
REFERENCES.update({"RAMDA": "ramda", "RMDA": "rmda", "MADGRAD": "madgrad", "ProxSSI": "proxssi"})
