public enum KneeForceData {}
