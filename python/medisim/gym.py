"""A Gymnasium environment: the hospital administrator's levers as the action.

Each step is one period of a Medi-Sim rollout. The action sets the eleven administrator levers
(α, β, total capacity, bonus pool, flexible pool, ξ, the KPI weights w_H, w_W, w_rej, w_C and
κ) within the schema's legal ranges — a value outside them is refused, never clipped; integer
levers are rounded as the policy language rounds them. The observation is the administrator's
features (queue_total … period), the reward the chosen objective's per-period reward; the care
teams answer through the policy's provider rules. ``info["discounted_return"]`` at the last
step is the simulator's own discounted return for the actions taken.

    import medisim
    env = medisim.gym.HospitalEnv(horizon=200, objective="mixed")
    obs, info = env.reset(seed=1)

or, through Gymnasium's registry, ``gymnasium.make("medisim/Hospital-v0", horizon=200)``.
"""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np

from . import Policy, Scenario, _native, _policy_text


class HospitalEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(
        self,
        policy: Any = None,
        scenario: Optional[Scenario] = None,
        horizon: int = 200,
        objective: str = "mixed",
    ):
        self._core = _native.HospitalEnvCore(
            _policy_text(policy),
            scenario.to_toml() if scenario is not None else None,
            int(horizon),
            objective,
        )
        bounds = _native.HospitalEnvCore.action_bounds()
        self.lever_names = [b[0] for b in bounds]
        self.action_space = gym.spaces.Box(
            low=np.array([b[1] for b in bounds], dtype=np.float64),
            high=np.array([b[2] for b in bounds], dtype=np.float64),
            dtype=np.float64,
        )
        self.feature_names = _native.HospitalEnvCore.observation_names()
        n = len(self.feature_names)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64)

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        replicate = int(seed) if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        obs = self._core.reset(replicate)
        return np.asarray(obs, dtype=np.float64), {}

    def step(self, action):
        obs, reward, done, ret = self._core.step([float(x) for x in np.asarray(action).ravel()])
        info = {"discounted_return": ret} if done else {}
        return np.asarray(obs, dtype=np.float64), float(reward), bool(done), False, info


__all__ = ["HospitalEnv", "Policy"]


ENV_ID = "medisim/Hospital-v0"
if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="medisim.gym:HospitalEnv")
