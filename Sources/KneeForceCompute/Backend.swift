import CKneeForce
