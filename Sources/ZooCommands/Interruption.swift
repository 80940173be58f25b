import Foundation

/// SIGINT / SIGTERM set a flag that training loops poll between steps, so they can write a
/// checkpoint and stop cleanly instead of dying mid-write.
enum Interruption {
    // Written by the signal handler, read by the training loop: the one type C allows for that.
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    /// Installs the handlers (a second Ctrl-C still ends the process at once).
    static func install() {
        flag = 0
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                if Interruption.flag != 0 {
                    signal(received, SIG_DFL)
                    raise(received)
                }
                Interruption.flag = 1
            }
        }
    }
}
