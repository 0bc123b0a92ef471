// The camera, microphone and speaker chosen on the pre-join screen, kept in localStorage so
// the room and the next consult on this computer start with them. Device ids are per origin
// and may vanish (a headset unplugged): the room falls back to the browser's default.
const KEY = "room-devices";

export function remembered() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
}

export function remember(choice) {
  localStorage.setItem(KEY, JSON.stringify({ ...remembered(), ...choice }));
}

// getUserMedia constraints for a choice; video at the room's size.
export function constraints(choice = remembered(), { video = true } = {}) {
  const pick = (id) => (id ? { deviceId: { exact: id } } : {});
  return {
    audio: choice.audioinput ? pick(choice.audioinput) : true,
    video: video && { width: 640, height: 480, ...pick(choice.videoinput) },
  };
}

// The chosen devices, or the defaults when one of them is gone.
export async function openMedia(choice = remembered(), options = {}) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints(choice, options));
  } catch (err) {
    if (err.name !== "OverconstrainedError" && err.name !== "NotFoundError") throw err;
    return navigator.mediaDevices.getUserMedia(constraints({}, options));
  }
}

export const canPickSpeaker = () => "setSinkId" in HTMLMediaElement.prototype;

export async function useSpeaker(element, id = remembered().audiooutput) {
  if (!id || !canPickSpeaker()) return;
  await element.setSinkId(id).catch(() => {}); // gone: the default speaker plays
}
