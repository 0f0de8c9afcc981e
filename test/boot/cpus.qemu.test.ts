// The CPUs the machine has, read from the ACPI MADT at boot (kernel/boot/cpus.ts): QEMU's -smp
// 1 and 4 give one line each with the APIC ids (with 3584 MiB, from tables above the linear
// map). With more than one, the others are started
// (kernel/smp/start.ts: test/smp/smp.qemu.test.ts runs the self-tests on them).
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../support/qemu-helpers";

describe("CPU discovery (ACPI MADT)", () => {
  it("-smp 1: one processor, APIC id 0, the local and I/O APICs' addresses; nothing to start", async () => {
    const r = await bootKernel("test=pmm.invariants", { smp: 1 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toMatch(/cpu: 1 processor \(ACPI MADT\): APIC id 0; local APIC at 0xfee00000, I\/O APIC at 0xfec00000\r?\n/);
    expect(r.serial).not.toContain("online");
  });
  it("-smp 4: four processors, APIC ids 0 to 3, all started", async () => {
    const r = await bootKernel("test=pmm.*,heap.*,slab.*,sched.*,proc.hello_args seed=1", { smp: 4 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("cpu: 4 processors (ACPI MADT): APIC ids 0, 1, 2, 3; local APIC at 0xfee00000");
    expect(r.serial).toMatch(/cpu: 4 processors online: APIC ids 0 \(bootstrap\), 1, 2, 3; started in \d+ ms/);
  });
  it("-smp 4 with 3584 MiB: the tables lie above the linear map and are read through a mapping; the trampoline's directory is a low frame", async () => {
    const r = await bootKernel("test=smp.*,pmm.cpu_lists smp=on seed=1", { smp: 4, memoryMiB: 3584 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("cpu: 4 processors (ACPI MADT): APIC ids 0, 1, 2, 3");
    expect(r.serial).toMatch(/cpu: 4 processors online: APIC ids 0 \(bootstrap\), 1, 2, 3; started in \d+ ms; they schedule threads/);
    expect(r.tap.find((t) => t.name === "smp.stale_tlb")?.comment ?? "missing", "smp.stale_tlb ran").toBe("");
  });
});
