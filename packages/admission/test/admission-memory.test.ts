/**
 * The admission conformance suite on the memory engine: one process, one node (the
 * cases about several nodes sharing one count do not apply to it and are skipped).
 */
import { admissionConformance } from './conformance.js';
import { MemoryAdmission } from '../src/admission-memory.js';
import type { Admission } from '../src/admission.js';

admissionConformance(
  'memory',
  async () => {
    const nodes: Admission[] = [];
    return {
      async node(limits) {
        if (nodes.length > 0) throw new Error('the memory engine has one node per process');
        const admission = new MemoryAdmission(limits);
        await admission.start();
        nodes.push(admission);
        return admission;
      },
      async cleanup() {
        await Promise.all(nodes.map((admission) => admission.stop()));
      },
    };
  },
  { severalNodes: false },
);
