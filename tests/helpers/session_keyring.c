/* session_keyring: prints the serial number of the calling process's
 * session keyring (KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING,
 * without creating one), for tests that compare the keyrings of a
 * container's init and its exec'd processes. Linked statically so that it
 * runs inside a busybox rootfs; raw syscall, no libkeyutils. */
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    long serial = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (serial < 0) {
        fprintf(stderr, "session_keyring: keyctl(KEYCTL_GET_KEYRING_ID): %s\n", strerror(errno));
        return 1;
    }
    printf("%ld\n", serial);
    return 0;
}
