// `make run` and `make debug`.
//   run.ts --kernel build/askern.elf [--mem 128] [--cpus 1] [--append "..."] (--interactive | --gdb)
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { bootInteractive, qemuArgs, userPrograms } from "./qemu.ts";

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const memoryMiB = Number(option("--mem", "128"));
  const smp = Number(option("--cpus", "1"));
  const cmdline = option("--append");
  const modules = userPrograms(join(dirname(kernel), "user"));   // (the programs `run NAME` and init=NAME find)
  if (process.argv.includes("--gdb")) {
    // QEMU halted at the first instruction with its gdb stub; serial goes to build/serial.log
    const args = qemuArgs({ kernel, memoryMiB, smp, cmdline, modules, gdb: true, serialFile: "build/serial.log" });
    console.log(`debug: qemu-system-i386 ${args.join(" ")}`);
    console.log("debug: serial output goes to build/serial.log (tail -f it in another terminal)");
    const qemu = spawn("qemu-system-i386", args, { stdio: ["ignore", "inherit", "inherit"] });
    const gdb = spawn("gdb", ["-q", "-nx", "-x", ".gdbinit", kernel], { stdio: "inherit" });
    await new Promise((resolve) => gdb.on("close", resolve));
    qemu.kill("SIGKILL");
    return;
  }
  console.log(`run: booting ${kernel} with ${memoryMiB} MiB${smp > 1 ? `, ${smp} CPUs` : ""}${cmdline ? `, command line '${cmdline}'` : ""}; quit with Ctrl-A X`);
  const code = await bootInteractive({ kernel, memoryMiB, smp, cmdline, modules });
  if (code !== 0 && code !== 33) process.exitCode = 1;
}

await main();
