/*
 * Frame bytes as the host packed them: plane p starts at byte off[p], rows
 * are stride[p] bytes apart (a multiple of 4). Formats as NstPixelFormat.
 */
#define FMT_RGB24   0
#define FMT_RGBA    1
#define FMT_BGRA    2
#define FMT_YUV420P 3
#define FMT_YUV444P 4
#define FMT_NV12    5

layout(set = 0, binding = 3) buffer Frame { uint words[]; } frame;

uint frame_byte(int off)
{
    return (frame.words[off >> 2] >> (8 * (off & 3))) & 0xffu;
}
